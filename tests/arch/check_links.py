#!/usr/bin/python3
"""Every link in README.md and docs/*.md resolves inside a clone: a relative
target names a file or folder of the repository, and an #anchor a heading of
the Markdown file it points to.  Web links (http, https, mailto) are not
followed.

    check_links.py [ROOT]        exit 0, or 1 with one line per broken link
    check_links.py --self-test   a planted broken link and anchor are found
"""
import os
import re
import sys
import tempfile

LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)\)|\!\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def slug(heading):
    # GitHub's anchors: lower case, markup and punctuation dropped, spaces to '-'.
    h = re.sub(r"[`*_]", "", heading.strip().lower())
    h = re.sub(r"[^\w\- ]", "", h)
    return h.replace(" ", "-")


def anchors(path):
    with open(path, encoding="utf-8") as f:
        text = FENCE.sub("", f.read())
    return {slug(h) for h in HEADING.findall(text)}


def check(root):
    files = [os.path.join(root, "README.md")]
    docs = os.path.join(root, "docs")
    if os.path.isdir(docs):
        files += [os.path.join(docs, f) for f in sorted(os.listdir(docs)) if f.endswith(".md")]
    broken = []
    for md in files:
        if not os.path.exists(md):
            continue
        with open(md, encoding="utf-8") as f:
            text = FENCE.sub("", f.read())
        for m in LINK.finditer(text):
            target = m.group(1) or m.group(2)
            if re.match(r"^(https?|mailto):", target):
                continue
            path, _, anchor = target.partition("#")
            rel = os.path.relpath(md, root)
            full = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
            if not (full + os.sep).startswith(os.path.abspath(root) + os.sep):
                broken.append("%s: %s: outside the repository" % (rel, target))
                continue
            if not os.path.exists(full):
                broken.append("%s: %s: no such file in the repository" % (rel, target))
                continue
            if anchor and full.endswith(".md") and anchor not in anchors(full):
                broken.append("%s: %s: no heading with that anchor" % (rel, target))
    return broken


def self_test():
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "docs"))
        with open(os.path.join(root, "docs", "a.md"), "w") as f:
            f.write("# Title\n\n## Some section\n")
        with open(os.path.join(root, "README.md"), "w") as f:
            f.write("[ok](docs/a.md#some-section) [bad](docs/none.md) [anchor](docs/a.md#nope) "
                    "[out](../shared/x.md) [web](https://example.org)\n")
        found = " | ".join(check(root))
        for want in ("docs/none.md: no such file", "../shared/x.md: outside the repository",
                     "docs/a.md#nope: no heading"):
            if want not in found:
                print("self-test: expected %r among the broken links, found %r" % (want, found))
                return 1
    print("self-test: planted broken links found")
    return 0


def main(argv):
    if len(argv) > 1 and argv[1] == "--self-test":
        return self_test()
    root = os.path.abspath(argv[1] if len(argv) > 1 else
                           os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    broken = check(root)
    for b in broken:
        print(b)
    print("links: %d broken" % len(broken))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
