# cmake -P script: `tlcr` refuses bad input with exit status 1 and a message that says what was
# expected and what was found — never a crash, a hang or a silent success.
#   cmake -DTLCR=<tlcr binary> -DWORK=<scratch dir> [-DWITH_CUDA=ON] -P check_cli_errors.cmake
# WITH_CUDA: tlcr was built with CUDA (TLCR_WITH_CUDA), so --device cuda needs only a GPU.
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

expect_error("pretrain with --dropout 1" "dropout: each rate must be in [0, 1)"
             pretrain --corpus ${WORK}/corpus.txt --tokenizer ${WORK}/tokenizer.json
             --out ${WORK}/model --context 16 --layers 1 --width 16 --heads 2 --dropout 1)

# A tiny model to run the model commands with.
execute_process(COMMAND ${TLCR} pretrain --corpus ${WORK}/corpus.txt --tokenizer ${WORK}/tokenizer.json
                        --out ${WORK}/model --context 16 --layers 1 --width 16 --heads 2 --steps 2
                        --batch 2
                RESULT_VARIABLE status OUTPUT_QUIET ERROR_QUIET)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "check_cli_errors: pretraining the tiny model failed with ${status}")
endif()
file(WRITE ${WORK}/empty.jsonl "\n")
expect_error("generate on an empty prompts file" "expected at least one record, found none"
             generate --model ${WORK}/model --prompts ${WORK}/empty.jsonl --out ${WORK}/out.jsonl)
file(WRITE ${WORK}/bad_tokens.jsonl "{\"tokens\": [1, 2]}\n{\"tokens\": [1, 99999]}\n")
expect_error("logprobs of an id outside the vocabulary" "bad_tokens.jsonl:2: field 'tokens': expected ids in [0, "
             logprobs --model ${WORK}/model --data ${WORK}/bad_tokens.jsonl --out ${WORK}/out.jsonl)
expect_error("a PPO setting of the wrong type" "command line: field 'kl_coef': expected a number, found \"abc\""
             ppo --policy ${WORK}/model --reward random --prompts ${WORK}/empty.jsonl --out ${WORK}/ppo
             --kl-coef abc)
expect_error("score on an empty file" "expected at least one record, found none"
             score --reward random --data ${WORK}/empty.jsonl --out ${WORK}/out.jsonl
             --tokenizer ${WORK}/tokenizer.json)

# --device cuda without CUDA compiled in, or without a GPU: refused before any work. With both it
# runs (a machine with a GPU).
file(WRITE ${WORK}/prompts.jsonl "{\"prompt\": \"the cat\"}\n")
set(on_cuda generate --model ${WORK}/model --prompts ${WORK}/prompts.jsonl --out ${WORK}/cuda.jsonl
            --max-new-tokens 2 --device cuda)
if(NOT WITH_CUDA)
  expect_error("--device cuda in a build without CUDA" "this tlcr was built without CUDA" ${on_cuda})
else()
  execute_process(COMMAND ${TLCR} ${on_cuda} RESULT_VARIABLE status OUTPUT_QUIET ERROR_QUIET
                  TIMEOUT 60)
  if(NOT status EQUAL 0)
    expect_error("--device cuda without a GPU" "--device cuda: no CUDA GPU is visible" ${on_cuda})
  endif()
endif()
execute_process(COMMAND ${TLCR} generate --model ${WORK}/model --prompts ${WORK}/prompts.jsonl
                        --out ${WORK}/tpu.jsonl --device tpu
                RESULT_VARIABLE status OUTPUT_QUIET ERROR_VARIABLE err TIMEOUT 60)
string(FIND "${err}" "tpu not in" at)  # CLI11: "--device: tpu not in {cpu,cuda}"
if(status EQUAL 0 OR at EQUAL -1 OR EXISTS ${WORK}/tpu.jsonl)
  message(FATAL_ERROR "check_cli_errors: --device tpu: expected CLI11 to refuse it, got '${status}'\n${err}")
endif()

# A label record whose ids fall outside the vocabulary is named by its file line, not by its
# place in the shuffled training split.
set(revisions "")
foreach(i RANGE 3)
  string(APPEND revisions "{\"prompt\": \"the cat ${i}\", \"chosen\": \"sat on the mat\", "
         "\"rejected\": \"ran to the park\", \"revised\": \"sat to the park\"}\n")
endforeach()
file(WRITE ${WORK}/revisions.jsonl "${revisions}")
execute_process(COMMAND ${TLCR} label --revisions ${WORK}/revisions.jsonl
                        --tokenizer ${WORK}/tokenizer.json --out ${WORK}/labels.jsonl
                RESULT_VARIABLE status OUTPUT_QUIET ERROR_QUIET)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "check_cli_errors: tlcr label failed with ${status}")
endif()
file(STRINGS ${WORK}/labels.jsonl label_lines)
list(GET label_lines 2 third)
string(REGEX REPLACE "\"rejected_ids\": *\\[[0-9]+" "\"rejected_ids\":[99999" third "${third}")
list(REMOVE_AT label_lines 2)
list(INSERT label_lines 2 "${third}")
list(JOIN label_lines "\n" labels)
file(WRITE ${WORK}/labels.jsonl "${labels}\n")
expect_error("a label id outside the vocabulary" "labels.jsonl:3: field 'rejected_ids': token 99999"
             train-discriminator --sft ${WORK}/model --labels ${WORK}/labels.jsonl
             --out ${WORK}/discriminator)
