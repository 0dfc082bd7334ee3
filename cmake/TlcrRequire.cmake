# tlcr_require(<package> <debian-package> [<min-version>])
# find_package in CONFIG mode; on failure stop configuring with the Debian package to install.
function(tlcr_require package debian_package)
  set(min_version "${ARGN}")
  find_package(${package} ${min_version} CONFIG QUIET)
  if(NOT ${package}_FOUND)
    message(FATAL_ERROR "tlcr: required package '${package}' ${min_version} was not found.\n"
                        "  On Debian/Ubuntu install it with:  apt-get install ${debian_package}")
  endif()
  message(STATUS "tlcr: found ${package} ${${package}_VERSION}")
endfunction()
