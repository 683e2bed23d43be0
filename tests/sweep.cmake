# Tests of the sweep driver (scripts/sweep, the package scripts/tunsim_sweep/) and of
# scripts/plot-cdf.py and scripts/setup.  Included from tests/CMakeLists.txt.
#   ctest -L sweep          all of them (about 3 min on 2 cores)
#   ctest -L sweep_unit     the unit tests only, against a fake tunsim (no build needed)
#
# Unit tests: one CTest test per module tests/sweep/test_*.py, run by
# /usr/bin/python3 -m unittest (standard library; matplotlib where a test plots, skipped
# without it).  They use tests/sweep/fake_tunsim.py, which implements the interface of
# `tunsim batch` and `tunsim designs --json`.
file(GLOB SWEEP_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/sweep/test_*.py)
foreach(f ${SWEEP_UNIT_TESTS})
  get_filename_component(module ${f} NAME_WE)
  add_test(NAME sweep_unit_${module} COMMAND /usr/bin/python3 -m unittest -v ${module})
  set_tests_properties(sweep_unit_${module} PROPERTIES
    WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR}/sweep LABELS "sweep;sweep_unit" TIMEOUT 300
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endforeach()

# End-to-end tests with the real binary: each case of tests/sweep/sweep-test.sh is its own
# test, plus the Slurm engine against real Slurm daemons and the GNU parallel engine over
# ssh (both started by the test, as root).  Exit 0 pass, 1 fail, 77 skipped (a prerequisite
# such as GNU parallel, matplotlib, Slurm or sshd is missing; the reason is printed).
foreach(case run_and_resume bad_input zip_grid parallel_engine merge_slurm interrupt plot capacity kill9)
  add_test(NAME sweep_${case}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/sweep/sweep-test.sh ${case})
endforeach()
add_test(NAME sweep_slurm COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/sweep/slurm-test.sh)
add_test(NAME sweep_parallel_ssh COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/sweep/ssh-test.sh)
foreach(t sweep_run_and_resume sweep_bad_input sweep_zip_grid sweep_parallel_engine sweep_merge_slurm
          sweep_interrupt sweep_plot sweep_capacity sweep_kill9 sweep_slurm sweep_parallel_ssh)
  set_tests_properties(${t} PROPERTIES
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} LABELS sweep SKIP_RETURN_CODE 77 TIMEOUT 180
    ENVIRONMENT "TUNSIM=$<TARGET_FILE:tunsim>;PYTHONDONTWRITEBYTECODE=1")
endforeach()
