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
