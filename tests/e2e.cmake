# The real end-to-end test (issue 3, part 6): capture kernel traces, calibrate
# on the single-writer ones, simulate, diff.  Needs root, /dev/net/tun and
# tracefs; otherwise it prints why and exits 77 (reported as skipped).
# 35 s (skipped early on a busy host) to about 5 minutes; new captures stop
# after 200 s, the timeout leaves room for the last ones.  Run it alone: ctest -L e2e
add_test(NAME e2e_kernel_traces
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/e2e/e2e-test.sh $<TARGET_FILE:tunsim>)
set_tests_properties(e2e_kernel_traces PROPERTIES
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} LABELS e2e SKIP_RETURN_CODE 77 TIMEOUT 420 RUN_SERIAL TRUE)

# capture-trace --threaded on this kernel: refusals, the pinned kthread's
# polls, the sidecar, cleanup (tests/e2e/capture-threaded-test.sh).  About
# 10 s; needs root, /dev/net/tun, tracefs and threaded NAPI (5.12+), else 77.
add_test(NAME e2e_capture_threaded
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/e2e/capture-threaded-test.sh)
set_tests_properties(e2e_capture_threaded PROPERTIES
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} LABELS e2e SKIP_RETURN_CODE 77 TIMEOUT 120 RUN_SERIAL TRUE)
