# Remote storage drivers of pvback-blk-core: iSCSI (libiscsi) and NFS
# (libnfs) behind the storage interface, and the pure URL parser.
pkg_check_modules(LIBISCSI REQUIRED IMPORTED_TARGET libiscsi)
pkg_check_modules(LIBNFS REQUIRED IMPORTED_TARGET libnfs)
target_sources(pvback-blk-core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/storage_url.c
  ${CMAKE_CURRENT_LIST_DIR}/storage_remote.c
  ${CMAKE_CURRENT_LIST_DIR}/storage_iscsi.c
  ${CMAKE_CURRENT_LIST_DIR}/storage_nfs.c)
target_link_libraries(pvback-blk-core PUBLIC PkgConfig::LIBISCSI PkgConfig::LIBNFS)

# The remote storage checker the tests/sim/remote_*.sh scripts run.
if(EXISTS ${CMAKE_SOURCE_DIR}/tests/sim/remote_check.c)
  add_executable(pvback-remote-check ${CMAKE_SOURCE_DIR}/tests/sim/remote_check.c)
  target_link_libraries(pvback-remote-check PRIVATE pvback-blk-core)
endif()

# The remote storage sim tests again under valgrind (lib_servers.sh wraps
# pvback-remote-check, blk_helpers.bash pvback-blk, when PVBACK_VALGRIND=1).
find_program(VALGRIND valgrind)
if(VALGRIND AND NOT PVBACK_SANITIZE)
  file(GLOB REMOTE_SIM_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/sim/remote_*.sh)
  foreach(s ${REMOTE_SIM_TESTS})
    get_filename_component(name ${s} NAME_WE)
    add_test(NAME valgrind/sim/${name} COMMAND bash ${s})
    set_tests_properties(valgrind/sim/${name} PROPERTIES LABELS valgrind TIMEOUT 1200
      ENVIRONMENT "PVBACK_BIN=${CMAKE_BINARY_DIR}/bin;PVBACK_SRC=${CMAKE_SOURCE_DIR};PVBACK_VALGRIND=1")
  endforeach()
endif()
