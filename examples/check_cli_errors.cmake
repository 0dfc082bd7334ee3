# cmake -P script: `tlcr` refuses bad input with exit status 1 and a message that says what was
# expected and what was found — never a crash, a hang or a silent success.
#   cmake -DTLCR=<tlcr binary> -DWORK=<scratch dir> -P check_cli_errors.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(corpus "")
foreach(i RANGE 40)
  string(APPEND corpus "the cat sat on the mat and the dog ran to the park number ${i}\n")
endforeach()
file(WRITE ${WORK}/corpus.txt "${corpus}")
file(WRITE ${WORK}/empty.txt "")
file(WRITE ${WORK}/short.txt "the cat sat\n")
execute_process(COMMAND ${TLCR} tokenizer train --corpus ${WORK}/corpus.txt --vocab-size 300
                        --out ${WORK}/tokenizer.json
                RESULT_VARIABLE status OUTPUT_QUIET)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "check_cli_errors: tokenizer train failed with ${status}")
endif()

# expect_error(<name> <expected text> <arguments...>): tlcr exits with 1 and stderr holds the text.
function(expect_error name expected)
  execute_process(COMMAND ${TLCR} ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out
                  ERROR_VARIABLE err TIMEOUT 60)
  if(NOT status EQUAL 1)
    message(FATAL_ERROR "check_cli_errors: ${name}: expected exit status 1, got '${status}'\n${err}")
  endif()
  string(FIND "${err}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "check_cli_errors: ${name}: expected '${expected}' in:\n${err}")
  endif()
  message(STATUS "${name}: ${err}")
endfunction()

# Pretraining cuts the stream into a training and a held-out window; too short a corpus once
# underflowed that arithmetic and read out of bounds.
expect_error("pretrain on an empty corpus" "the corpus holds 0 tokens"
             pretrain --corpus ${WORK}/empty.txt --tokenizer ${WORK}/tokenizer.json
             --out ${WORK}/model --context 16 --layers 1 --width 16 --heads 2)
expect_error("pretrain on a corpus shorter than two windows" "it needs at least 34"
             pretrain --corpus ${WORK}/short.txt --tokenizer ${WORK}/tokenizer.json
             --out ${WORK}/model --context 16 --layers 1 --width 16 --heads 2)
expect_error("pretrain with --context 0" "--context must be positive, got 0"
             pretrain --corpus ${WORK}/corpus.txt --tokenizer ${WORK}/tokenizer.json
             --out ${WORK}/model --context 0 --layers 1 --width 16 --heads 2)
