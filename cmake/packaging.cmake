# Install rules (SPEC §9) and the Debian package (cpack -G DEB): config in
# /etc/vetd, data in share/vetd, units and sysusers where systemd looks.
# Included at the end of the top-level CMakeLists.txt, after the targets.

# Configuration lives in /etc whatever the prefix is: vetd's and vetctl's
# built-in defaults (/etc/vetd/vetd.conf, roles_dir /etc/vetd/roles) point
# there.
set(VETD_CONFDIR "/etc/vetd" CACHE PATH "Where vetd.conf and roles/ are installed")

# Units and sysusers.d: systemd's own directories for the /usr prefix
# (pkg-config systemd), else the prefix's lib/systemd/system and
# lib/sysusers.d, which systemd also searches (for /usr/local). Decided at
# install time, so that `cmake --install --prefix DIR` gets them right too;
# VETD_SYSTEMD_UNITDIR / VETD_SYSUSERSDIR override.
pkg_get_variable(VETD_PC_UNITDIR systemd systemdsystemunitdir)
pkg_get_variable(VETD_PC_SYSUSERSDIR systemd sysusersdir)
if(NOT VETD_PC_UNITDIR)
  set(VETD_PC_UNITDIR /lib/systemd/system)
endif()
if(NOT VETD_PC_SYSUSERSDIR)
  set(VETD_PC_SYSUSERSDIR /usr/lib/sysusers.d)
endif()
set(VETD_SYSTEMD_UNITDIR "" CACHE PATH "Where the systemd units go (empty: see above)")
set(VETD_SYSUSERSDIR "" CACHE PATH "Where the sysusers.d file goes (empty: see above)")

# The shipped units name /usr/bin/vetd and /etc/vetd; the installed copies
# name the installed binary and VETD_CONFDIR.
set(VETD_UNIT_OUT ${CMAKE_BINARY_DIR}/systemd)
install(CODE "
  if(\"${VETD_SYSTEMD_UNITDIR}\" STREQUAL \"\")
    if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
      set(vetd_unitdir \"${VETD_PC_UNITDIR}\")
      set(vetd_sysusersdir \"${VETD_PC_SYSUSERSDIR}\")
    else()
      set(vetd_unitdir \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
      set(vetd_sysusersdir \"\${CMAKE_INSTALL_PREFIX}/lib/sysusers.d\")
    endif()
  else()
    set(vetd_unitdir \"${VETD_SYSTEMD_UNITDIR}\")
    set(vetd_sysusersdir \"${VETD_SYSUSERSDIR}\")
  endif()
  foreach(unit vetd.service vetd@.service)
    file(READ \"${CMAKE_SOURCE_DIR}/systemd/\${unit}\" text)
    string(REPLACE \"/usr/bin/vetd \" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/vetd \"
           text \"\${text}\")
    string(REPLACE \"/etc/vetd/\" \"${VETD_CONFDIR}/\" text \"\${text}\")
    file(WRITE \"${VETD_UNIT_OUT}/\${unit}\" \"\${text}\")
    file(INSTALL DESTINATION \"\${vetd_unitdir}\" TYPE FILE FILES \"${VETD_UNIT_OUT}/\${unit}\")
  endforeach()
  file(INSTALL DESTINATION \"\${vetd_sysusersdir}\" TYPE FILE
       RENAME vetd.conf FILES \"${CMAKE_SOURCE_DIR}/systemd/vetd.sysusers\")
")

# Configuration (conffiles in the package: an operator's edits survive
# upgrades).
install(FILES conf/vetd.conf DESTINATION ${VETD_CONFDIR})
file(GLOB VETD_ROLE_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/conf/roles/*.json)
install(FILES ${VETD_ROLE_FILES} DESTINATION ${VETD_CONFDIR}/roles)

# Data, documentation, man pages and completion (the optional ones may not
# be written yet in a given checkout: re-run cmake once they are).
install(FILES conf/submission.schema.json OPTIONAL DESTINATION ${CMAKE_INSTALL_DATADIR}/vetd)
install(DIRECTORY conf/samples DESTINATION ${CMAKE_INSTALL_DATADIR}/vetd)
foreach(page vetctl.1 vetd.conf.5 vetd.8)
  string(REGEX REPLACE ".*\\." "" section ${page})
  if(EXISTS ${CMAKE_SOURCE_DIR}/man/${page})
    install(FILES man/${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endif()
endforeach()
if(EXISTS ${CMAKE_SOURCE_DIR}/contrib/bash-completion/vetctl)
  install(FILES contrib/bash-completion/vetctl
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
endif()
install(FILES README.md doc/operations.md OPTIONAL DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ---- Debian package -------------------------------------------------------

set(VETD_DEB_DIR ${CMAKE_BINARY_DIR}/debian)
set(conffiles "${VETD_CONFDIR}/vetd.conf\n")
foreach(role ${VETD_ROLE_FILES})
  get_filename_component(name ${role} NAME)
  string(APPEND conffiles "${VETD_CONFDIR}/roles/${name}\n")
endforeach()
file(WRITE ${VETD_DEB_DIR}/conffiles "${conffiles}")

# postinst: create the vetd user (systemd-sysusers, or adduser where
# systemd is absent) and make systemd see the units; never start or enable
# the service (the operator configures Redis first).
file(WRITE ${VETD_DEB_DIR}/postinst "#!/bin/sh
set -e
if [ \"$1\" = configure ]; then
    if command -v systemd-sysusers >/dev/null 2>&1; then
        systemd-sysusers vetd.conf
    elif ! getent passwd vetd >/dev/null; then
        adduser --system --group --no-create-home --home / vetd
    fi
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload || true
    fi
fi
exit 0
")
# prerm: stop the running instances before their binary goes away.
file(WRITE ${VETD_DEB_DIR}/prerm "#!/bin/sh
set -e
if [ \"$1\" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop vetd.service 'vetd@*.service' || true
fi
exit 0
")
# postrm: forget the removed units. The vetd user stays (Debian policy:
# files it owned may remain).
file(WRITE ${VETD_DEB_DIR}/postrm "#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
exit 0
")
file(CHMOD ${VETD_DEB_DIR}/postinst ${VETD_DEB_DIR}/prerm ${VETD_DEB_DIR}/postrm
     PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
                 WORLD_EXECUTE)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vetd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "vetd maintainers <vetd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "application-review queue daemon (vetd) and reviewer CLI (vetctl)")
set(CPACK_PACKAGE_DESCRIPTION
    "vetd takes job-application submissions off a Redis list, validates and scores them against role definitions, stores an analysis, tracks review states and emits notification jobs. vetctl is the reviewers' and operators' command line.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared-library dependencies come from dpkg-shlibdeps (libevent-2.1-7,
# libhiredis0.14, libjson-c5, libsystemd0, libnettle8, libc6); the base
# list below is what they resolve to on Debian 12 where it is unavailable.
find_program(VETD_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(VETD_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libevent-2.1-7, libhiredis0.14, libjson-c5, libsystemd0, libnettle8, libc6")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "redis-server (>= 5:7.0)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${VETD_DEB_DIR}/conffiles ${VETD_DEB_DIR}/postinst ${VETD_DEB_DIR}/prerm
    ${VETD_DEB_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
