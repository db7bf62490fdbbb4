# Files for the system services that consume them (D-Bus, systemd, polkit),
# installed where each looks: the directories their pkg-config files publish,
# with the usual defaults where a .pc file is not installed.

function(xconnect_pkg_dir out module variable default)
  pkg_get_variable(value ${module} ${variable})
  if(NOT value)
    set(value ${default})
  endif()
  set(${out} ${value} PARENT_SCOPE)
endfunction()

xconnect_pkg_dir(DBUS_SYSTEM_POLICY_DIR dbus-1 datadir ${CMAKE_INSTALL_FULL_DATADIR})
set(DBUS_SYSTEM_POLICY_DIR ${DBUS_SYSTEM_POLICY_DIR}/dbus-1/system.d)
xconnect_pkg_dir(DBUS_SYSTEM_SERVICES_DIR dbus-1 system_bus_services_dir
                 ${CMAKE_INSTALL_FULL_DATADIR}/dbus-1/system-services)
xconnect_pkg_dir(SYSTEMD_SYSTEM_UNIT_DIR systemd systemdsystemunitdir
                 ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
xconnect_pkg_dir(SYSUSERS_DIR systemd sysusersdir ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d)
xconnect_pkg_dir(TMPFILES_DIR systemd tmpfilesdir ${CMAKE_INSTALL_PREFIX}/lib/tmpfiles.d)
xconnect_pkg_dir(POLKIT_ACTIONS_DIR polkit-gobject-1 policydir
                 ${CMAKE_INSTALL_FULL_DATADIR}/polkit-1/actions)

configure_file(${PROJECT_SOURCE_DIR}/systemd/xconnectd.service.in
               ${PROJECT_BINARY_DIR}/xconnectd.service @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/dbus/org.xconnect.service.in
               ${PROJECT_BINARY_DIR}/org.xconnect.service @ONLY)

install(FILES ${PROJECT_BINARY_DIR}/xconnectd.service DESTINATION ${SYSTEMD_SYSTEM_UNIT_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/dbus/org.xconnect.conf DESTINATION ${DBUS_SYSTEM_POLICY_DIR})
install(FILES ${PROJECT_BINARY_DIR}/org.xconnect.service DESTINATION ${DBUS_SYSTEM_SERVICES_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/polkit/org.xconnect.policy DESTINATION ${POLKIT_ACTIONS_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/dbus/org.xconnect.Manager.xml
              ${PROJECT_SOURCE_DIR}/dbus/org.xconnect.Pair.xml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/dbus-1/interfaces)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/polkit/50-xconnect-netadmin.rules.example
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
# User xconnect, and its /etc/xconnect (the path the unit names, whatever the
# prefix): systemd-sysusers and systemd-tmpfiles create them at boot, or
# the package's postinst at install.
install(FILES ${PROJECT_SOURCE_DIR}/systemd/xconnect.sysusers DESTINATION ${SYSUSERS_DIR}
        RENAME xconnect.conf)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/xconnect.tmpfiles DESTINATION ${TMPFILES_DIR}
        RENAME xconnect.conf)
