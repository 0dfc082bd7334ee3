# cmake -P script: `tlcr dpo` on a tiny SFT model — the policy directory it writes (loadable by
# `tlcr generate`, with β and the reference in config.json), its metrics in TRL's names (the first
# step's loss is log 2: the policy starts as its reference), the checkpoint and --resume (the same
# settings continue to the same weights, other settings are refused), and bad input refused with
# exit status 1 and a message.
#   cmake -DTLCR=<tlcr binary> -DWORK=<scratch dir> -P check_dpo_cli.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(corpus "")
foreach(i RANGE 60)
  string(APPEND corpus "the cat sat on the mat and the dog ran to the park number ${i}\n")
endforeach()
file(WRITE ${WORK}/corpus.txt "${corpus}")
file(WRITE ${WORK}/preferences.jsonl
     "{\"prompt\": \"the cat\", \"chosen\": \"sat on the mat\", \"rejected\": \"ran\"}\n"
     "{\"prompt\": \"the dog\", \"chosen\": \"ran to the park\", \"rejected\": \"the the\"}\n"
     "{\"prompt\": \"the cat\", \"chosen\": \"sat\", \"rejected\": \"park park\"}\n"
     "{\"prompt\": \"the dog\", \"chosen\": \"ran\", \"rejected\": \"mat the\"}\n"
     "{\"prompt\": \"the cat\", \"chosen\": \"sat on\", \"rejected\": \"on on\"}\n"
     "{\"prompt\": \"the dog\", \"chosen\": \"ran to\", \"rejected\": \"cat cat\"}\n")
file(WRITE ${WORK}/sft.jsonl "{\"prompt\": \"the cat\", \"response\": \"sat on the mat\"}\n"
                             "{\"prompt\": \"the dog\", \"response\": \"ran to the park\"}\n")

function(run name)
  execute_process(COMMAND ${TLCR} ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out
                  ERROR_VARIABLE err TIMEOUT 120)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "check_dpo_cli: ${name} failed with '${status}':\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()
# expect_error(<name> <expected text> <arguments...>): tlcr fails and stderr holds the text.
function(expect_error name expected)
  execute_process(COMMAND ${TLCR} ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out
                  ERROR_VARIABLE err TIMEOUT 120)
  if(status EQUAL 0)
    message(FATAL_ERROR "check_dpo_cli: ${name}: expected a failure, got exit status 0\n${out}")
  endif()
  string(FIND "${err}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "check_dpo_cli: ${name}: expected '${expected}' in:\n${err}")
  endif()
  set(last_status "${status}" PARENT_SCOPE)
endfunction()
function(expect_file path)
  if(NOT EXISTS ${path})
    message(FATAL_ERROR "check_dpo_cli: expected ${path} to exist")
  endif()
endfunction()

run("tokenizer" tokenizer train --corpus ${WORK}/corpus.txt --vocab-size 300
    --out ${WORK}/tokenizer.json)
run("pretrain" pretrain --corpus ${WORK}/corpus.txt --tokenizer ${WORK}/tokenizer.json --context 48
    --layers 1 --width 16 --heads 2 --steps 4 --batch 2 --out ${WORK}/base)
run("sft" sft --data ${WORK}/sft.jsonl --steps 3 --batch 2 --model ${WORK}/base --out ${WORK}/sft)
# A model without an LM head, for the last error below.
run("train-reward-model" train-reward-model --sft ${WORK}/sft
    --preferences ${WORK}/preferences.jsonl --max-steps 1 --batch-size 2 --out ${WORK}/scorer)

set(dpo_args dpo --sft ${WORK}/sft --preferences ${WORK}/preferences.jsonl --batch-size 2
    --eval-fraction 0.2 --log-every 1 --lr 1e-3 --warmup 1)
run("dpo" ${dpo_args} --max-steps 3 --out ${WORK}/dpo --metrics ${WORK}/dpo/metrics.jsonl
    --checkpoint-every 2)
string(FIND "${last_output}" "dpo: 3 steps on 5 pairs" at)
if(at EQUAL -1)
  message(FATAL_ERROR "check_dpo_cli: dpo printed no summary of 3 steps on 5 pairs:\n"
                      "${last_output}")
endif()
foreach(file config.json model.safetensors tokenizer.json checkpoint/trainer_state.json)
  expect_file(${WORK}/dpo/${file})
endforeach()
file(READ ${WORK}/dpo/config.json config)
string(JSON kind GET "${config}" tlcr_reward kind)
string(JSON beta GET "${config}" tlcr_reward beta)
string(JSON reference GET "${config}" tlcr_reward reference)
string(JSON held_out_accuracy GET "${config}" tlcr_reward held_out rewards/accuracies)
if(NOT kind STREQUAL "dpo" OR NOT beta EQUAL 0.1 OR NOT IS_ABSOLUTE "${reference}"
   OR NOT EXISTS "${reference}/model.safetensors")
  message(FATAL_ERROR "check_dpo_cli: config.json's tlcr_reward is not dpo with beta 0.1 and the "
                      "SFT model as reference:\n${config}")
endif()

# Metrics: one record per step in TRL's names; the last holds the held-out evaluation.
file(STRINGS ${WORK}/dpo/metrics.jsonl records)
list(LENGTH records count)
if(NOT count EQUAL 3)
  message(FATAL_ERROR "check_dpo_cli: dpo logged ${count} records, expected 3")
endif()
foreach(record IN LISTS records)
  foreach(key loss grad_norm rewards/chosen rewards/rejected rewards/accuracies rewards/margins
              logps/chosen logps/rejected)
    string(JSON value ERROR_VARIABLE missing GET "${record}" ${key})
    if(missing)
      message(FATAL_ERROR "check_dpo_cli: metrics record without '${key}': ${record}")
    endif()
  endforeach()
endforeach()
list(GET records 0 first)
string(JSON first_loss GET "${first}" loss)
string(JSON first_margin GET "${first}" rewards/margins)
if(NOT first_loss MATCHES "^0\\.693" OR NOT first_margin EQUAL 0)
  message(FATAL_ERROR "check_dpo_cli: the first step (policy = reference) must have loss log 2 "
                      "and margin 0: ${first}")
endif()
list(GET records 2 last)
string(JSON eval_accuracy GET "${last}" eval rewards/accuracies)
string(JSON eval_pairs GET "${last}" eval pairs)
if(NOT eval_pairs EQUAL 1 OR NOT eval_accuracy STREQUAL held_out_accuracy)
  message(FATAL_ERROR "check_dpo_cli: the last record's held-out evaluation (1 pair, as stored "
                      "in config.json) is missing or differs: ${last}")
endif()

# The policy is a model directory like any other.
file(WRITE ${WORK}/prompts.jsonl "{\"prompt\": \"the cat\"}\n")
run("generate from the DPO policy" generate --model ${WORK}/dpo --prompts ${WORK}/prompts.jsonl
    --out ${WORK}/samples.jsonl --max-new-tokens 4 --temperature 0)
expect_file(${WORK}/samples.jsonl)

# --resume with the same settings: no steps left, the same weights; other settings: refused.
run("dpo --resume" ${dpo_args} --max-steps 3 --out ${WORK}/resumed --resume ${WORK}/dpo/checkpoint)
file(SHA256 ${WORK}/dpo/model.safetensors trained)
file(SHA256 ${WORK}/resumed/model.safetensors resumed)
if(NOT trained STREQUAL resumed)
  message(FATAL_ERROR "check_dpo_cli: resuming a finished run changed the weights")
endif()
expect_error("dpo --resume with more steps" "setting 'total_steps' was 3, this run has 5"
             ${dpo_args} --max-steps 5 --out ${WORK}/more --resume ${WORK}/dpo/checkpoint)
expect_error("dpo --resume with another beta" "setting 'beta' was 0.1, this run has 0.2"
             ${dpo_args} --max-steps 3 --beta 0.2 --out ${WORK}/other
             --resume ${WORK}/dpo/checkpoint)

# Bad input.
expect_error("dpo --beta 0" "--beta: expected a positive number, got 0"
             ${dpo_args} --max-steps 3 --beta 0 --out ${WORK}/bad)
if(NOT last_status EQUAL 1)
  message(FATAL_ERROR "check_dpo_cli: dpo --beta 0 exited with ${last_status}, expected 1")
endif()
expect_error("dpo without the preferences file" "File does not exist: ${WORK}/missing.jsonl"
             dpo --sft ${WORK}/sft --preferences ${WORK}/missing.jsonl --out ${WORK}/bad)
file(WRITE ${WORK}/broken.jsonl
     "{\"prompt\": \"the cat\", \"chosen\": \"sat\", \"rejected\": \"ran\"}\n"
     "{\"prompt\": \"the dog\", \"chosen\": \"ran\"}\n")
expect_error("dpo on a record without 'rejected'"
             "broken.jsonl:2: field 'rejected': expected a string, found nothing"
             dpo --sft ${WORK}/sft --preferences ${WORK}/broken.jsonl --out ${WORK}/bad)
if(NOT last_status EQUAL 1)
  message(FATAL_ERROR "check_dpo_cli: dpo on a broken record exited with ${last_status}, "
                      "expected 1")
endif()
expect_error("dpo from a model without an LM head" "expected a policy with an LM head"
             dpo --sft ${WORK}/scorer --preferences ${WORK}/preferences.jsonl --out ${WORK}/bad)
message(STATUS "tlcr dpo: policy directory, metrics, checkpoint and resume, errors")
