# C++ for the D-Bus interfaces in dbus/: sdbus-c++-xml2cpp turns
# dbus/org.xconnect.<Interface>.xml into xconnect_<interface>_<kind>.h in
# DIRECTORY (kind: adaptor for the daemon, proxy for clients); the list of
# headers goes into OUT.
function(xconnect_dbus_codegen kind directory out)
  set(headers)
  foreach(interface Manager Pair)
    string(TOLOWER ${interface} lower)
    set(xml ${PROJECT_SOURCE_DIR}/dbus/org.xconnect.${interface}.xml)
    set(header ${directory}/xconnect_${lower}_${kind}.h)
    add_custom_command(
      OUTPUT ${header}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${directory}
      COMMAND ${SDBUSCPP_XML2CPP} ${xml} --${kind}=${header}
      DEPENDS ${xml}
      COMMENT "Generating D-Bus ${kind} for org.xconnect.${interface}"
      VERBATIM)
    list(APPEND headers ${header})
  endforeach()
  set(${out} ${headers} PARENT_SCOPE)
endfunction()
