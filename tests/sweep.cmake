# Tests of scripts/sweep (sweep driver, engines, merge, plots).  Included from
# tests/CMakeLists.txt.  Each case of tests/sweep/sweep-test.sh is its own test;
# it exits 0 (pass), 1 (fail) or 77 (skipped: GNU parallel or matplotlib missing).
#   ctest -L sweep     all of them, about 30 s on 2 cores
foreach(case run_and_resume bad_input zip_grid parallel_engine merge_slurm interrupt plot capacity)
  add_test(NAME sweep_${case}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/sweep/sweep-test.sh ${case})
  set_tests_properties(sweep_${case} PROPERTIES
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} LABELS sweep SKIP_RETURN_CODE 77 TIMEOUT 120
    ENVIRONMENT "TUNSIM=$<TARGET_FILE:tunsim>")
endforeach()
