# Shell-driven integration tests, registered with CTest.  Included from
# tests/CMakeLists.txt.  Each script exits 0 (pass), 1 (fail) or 77 (skipped:
# a prerequisite is missing; the script prints which).
#
#   ctest -L kmod-build    the module builds with -Werror against linux-headers-amd64
#   ctest -L kmod-script   scripts/kmod-calibrate diagnoses missing prerequisites
#   ctest -L kmod          the module loads and runs in Debian's kernel under qemu (TCG)

add_test(NAME kmod_build COMMAND bash ${CMAKE_SOURCE_DIR}/tests/kmod/build-test.sh)
set_tests_properties(kmod_build PROPERTIES
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} LABELS kmod-build SKIP_RETURN_CODE 77 TIMEOUT 300 RESOURCE_LOCK kmod_tree)

add_test(NAME kmod_calibrate_script COMMAND bash ${CMAKE_SOURCE_DIR}/tests/kmod/calibrate-script-test.sh)
set_tests_properties(kmod_calibrate_script PROPERTIES
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} LABELS kmod-script SKIP_RETURN_CODE 77 TIMEOUT 120 RESOURCE_LOCK kmod_tree)

# Boots a kernel under software emulation: about 15 s on a 2-core machine
# (most of it the boot); the script's own qemu limit is 300 s.
add_test(NAME kmod_qemu COMMAND bash ${CMAKE_SOURCE_DIR}/tests/kmod/qemu-test.sh $<TARGET_FILE:tunsim>)
set_tests_properties(kmod_qemu PROPERTIES
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} LABELS kmod SKIP_RETURN_CODE 77 TIMEOUT 600 RESOURCE_LOCK kmod_tree
  ENVIRONMENT "TUNSIM_QEMU_TIMEOUT=300")

# scripts/trace-segments on hand-made traces (standard library only).
add_test(NAME trace_segments_script COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/tools/test_trace_segments.py -v)
set_tests_properties(trace_segments_script PROPERTIES WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} TIMEOUT 60)
# The Python scripts' standard output on a full disk and into a closed pipe
# (scripts/machine/stdout.py; standard library only).
add_test(NAME script_stdout COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/tools/test_script_stdout.py -v)
set_tests_properties(script_stdout PROPERTIES WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} TIMEOUT 60)
# The scripts' error messages show their input escaped (scripts/machine/printable.py;
# standard library only).
add_test(NAME script_messages COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/tools/test_script_messages.py -v)
set_tests_properties(script_messages PROPERTIES WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} TIMEOUT 60)
# scripts/machine/slub.py's rules, by hand and on the committed slab-burst
# captures (standard library only).
add_test(NAME slub_script COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/tools/test_slub.py -v)
set_tests_properties(slub_script PROPERTIES WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} TIMEOUT 120)
# scripts/machine/stall_pairs.py by hand and on the committed pair record
# (standard library only).
add_test(NAME stall_pairs_script COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/tools/test_stall_pairs.py -v)
set_tests_properties(stall_pairs_script PROPERTIES WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} TIMEOUT 60)

# scripts/validation-table on the README's committed round: rows, columns
# and the "host as calibrated" verdicts (scripts/machine/trust.py).  About 15 s
# (90-125 s in the ASan/UBSan build of tests/ci/clang-checks.sh, beside
# another test).
add_test(NAME validation_table_script
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/tools/validation-table-test.sh $<TARGET_FILE:tunsim>)
set_tests_properties(validation_table_script PROPERTIES WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} TIMEOUT 400)
# scripts/pipeline in a copy of its scripts, with a fake capture-trace and
# another tunsim on PATH: which tunsim runs, the host verdict of
# scripts/machine/trust.py, one --count a capture.  About 8 s; no root.
add_test(NAME pipeline_script
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/tools/pipeline-test.sh $<TARGET_FILE:tunsim>)
set_tests_properties(pipeline_script PROPERTIES WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} TIMEOUT 120)
