# Fails when a header under include/tlcr/ includes a header of a higher layer.
#   cmake -DINCLUDE_DIR=<repo>/include -P tests/layers/check_layers.cmake
#
# Layers, bottom to top; a header may include its own layer and those below it. config is
# include/tlcr/config.hpp; every other layer is a folder, with its umbrella tlcr/<layer>.hpp. The
# umbrella tlcr.hpp and the prebuilt instance unit tlcr/instances.hpp sit above them all.
set(layers config core ops autograd nn dist models optim text io train generate rlhf)

# Known exceptions, "<including header>-><included header>", each to be removed when fixed.
set(allowed)

if(NOT INCLUDE_DIR)
  message(FATAL_ERROR "check_layers: pass -DINCLUDE_DIR=<repository>/include")
endif()

# The layer of a path relative to INCLUDE_DIR ("tlcr/nn/linear.hpp" -> nn), or "" for the umbrella.
function(layer_of path out)
  if(path STREQUAL "tlcr/tlcr.hpp" OR path STREQUAL "tlcr/instances.hpp")
    set(${out} "" PARENT_SCOPE)
  elseif(path STREQUAL "tlcr/config.hpp")
    set(${out} config PARENT_SCOPE)
  elseif(path MATCHES "^tlcr/([a-z]+)\\.hpp$")  # a layer's own umbrella, tlcr/<layer>.hpp
    set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
  elseif(path MATCHES "^tlcr/([^/]+)/")
    set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
  else()
    set(${out} "?" PARENT_SCOPE)
  endif()
endfunction()

file(GLOB_RECURSE headers RELATIVE ${INCLUDE_DIR} ${INCLUDE_DIR}/tlcr/*.hpp ${INCLUDE_DIR}/tlcr/*.h)
list(SORT headers)
set(problems "")
set(checked 0)
foreach(header IN LISTS headers)
  layer_of(${header} from)
  if(from STREQUAL "")
    continue()
  endif()
  list(FIND layers ${from} from_rank)
  if(from_rank EQUAL -1)
    string(APPEND problems "  ${header}: folder '${from}' is in no layer (add it to check_layers.cmake)\n")
    continue()
  endif()
  file(STRINGS ${INCLUDE_DIR}/${header} lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]tlcr/")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"].*$" "\\1" included "${line}")
    math(EXPR checked "${checked} + 1")
    layer_of(${included} to)
    list(FIND layers "${to}" to_rank)
    if(to_rank EQUAL -1)
      string(APPEND problems "  ${header} includes ${included}, which is in no layer\n")
    elseif(to_rank GREATER from_rank)
      list(FIND allowed "${header}->${included}" exception)
      if(exception EQUAL -1)
        string(APPEND problems "  ${header} (${from}) includes ${included} (${to}, a higher layer)\n")
      endif()
    endif()
  endforeach()
endforeach()

if(checked EQUAL 0)
  message(FATAL_ERROR "check_layers: no includes found under ${INCLUDE_DIR}/tlcr")
endif()
if(problems)
  message(FATAL_ERROR "check_layers: layers, bottom to top: ${layers}\n${problems}")
endif()
message(STATUS "check_layers: ${checked} includes in ${INCLUDE_DIR}/tlcr follow the layers")
