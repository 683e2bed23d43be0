# Tests of the machine measurements (scripts/machine/, scripts/linexfer.c,
# scripts/calibrate-machine, capture-trace's line transfer).  Included from
# tests/CMakeLists.txt.  Each case of tests/machine/machine-test.sh is its own
# test; it exits 0 (pass), 1 (fail) or 77 (skipped, with the reason: a
# prerequisite is missing, or the machine was too busy to trust a
# measurement).  All together 15 s on 2 idle cores, up to a minute on a busy one.
#   ctest -L machine             all of them
#   ctest -L machine-measures    only those that measure this machine
set(TUNSIM_MACHINE_CASES robust_rule robust_bad_input linexfer_refuses cachegeom_decode derive_levels derive_bad_input
    footprint_attrib perf_paths btf_sizes calibrate_usage trust_rules outfile_rule own_events_rules btb_summary)
set(TUNSIM_MACHINE_MEASURING linexfer_measures chase_curve capture_sidecar capture_perf_paths capture_rps capture_slab_events capture_drain capture_foreign atomics_measures wakeup_measures
    remotermw_measures ctxswitch_measures ctxswitch_traced wakeup_traced skbwalk_measures stall_measures sndbuf_wait_measures skb_truesize_measures btb_sites calibrate_refused calibrate_btb calibrate_slub)
foreach(case ${TUNSIM_MACHINE_CASES} ${TUNSIM_MACHINE_MEASURING})
  add_test(NAME machine_${case} COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/machine/machine-test.sh ${case})
  set(labels machine)
  if(case IN_LIST TUNSIM_MACHINE_MEASURING)
    list(APPEND labels machine-measures)
  endif()
  set_tests_properties(machine_${case} PROPERTIES
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} LABELS "${labels}" SKIP_RETURN_CODE 77 TIMEOUT 120)
endforeach()
# The measuring cases time the machine: never two at once, nor beside others.
foreach(case ${TUNSIM_MACHINE_MEASURING})
  set_tests_properties(machine_${case} PROPERTIES RUN_SERIAL TRUE)
endforeach()
