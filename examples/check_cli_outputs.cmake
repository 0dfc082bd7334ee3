# cmake -P script: what the `tlcr` commands write, on a tiny model: generate's token ids,
# log-probabilities and stop reasons (--with-tokens), "complete": false on cut-off responses, score
# echoing its input, sft taking cut-off responses, ppo's settings as flags, and eval on any prompts
# (with a scorer command).
#   cmake -DTLCR=<tlcr binary> -DWORK=<scratch dir> -P check_cli_outputs.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(corpus "")
foreach(i RANGE 40)
  string(APPEND corpus "the cat sat on the mat and the dog ran to the park number ${i}\n")
endforeach()
file(WRITE ${WORK}/corpus.txt "${corpus}")

function(run_tlcr name)
  execute_process(COMMAND ${TLCR} ${ARGN} RESULT_VARIABLE status OUTPUT_QUIET ERROR_VARIABLE err
                  TIMEOUT 120)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "check_cli_outputs: ${name} failed with ${status}:\n${err}")
  endif()
endfunction()
function(expect_in name file text)
  file(READ ${file} contents)
  string(FIND "${contents}" "${text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "check_cli_outputs: ${name}: expected '${text}' in ${file}:\n${contents}")
  endif()
endfunction()

run_tlcr("tokenizer train" tokenizer train --corpus ${WORK}/corpus.txt --vocab-size 300
         --out ${WORK}/tokenizer.json)
run_tlcr("pretrain" pretrain --corpus ${WORK}/corpus.txt --tokenizer ${WORK}/tokenizer.json
         --out ${WORK}/model --context 32 --layers 1 --width 16 --heads 2 --steps 2 --batch 2)

# generate: three tokens at most, so every response is cut off by the budget.
file(WRITE ${WORK}/prompts.jsonl "{\"prompt\": \"the cat\"}\n{\"prompt\": \"the dog\"}\n")
run_tlcr("generate --with-tokens" generate --model ${WORK}/model --prompts ${WORK}/prompts.jsonl
         --out ${WORK}/samples.jsonl --max-new-tokens 3 --temperature 0 --with-tokens)
file(STRINGS ${WORK}/samples.jsonl lines ENCODING UTF-8)
list(LENGTH lines count)
if(NOT count EQUAL 2)
  message(FATAL_ERROR "check_cli_outputs: generate wrote ${count} lines, expected 2")
endif()
foreach(line IN LISTS lines)
  string(JSON tokens GET "${line}" tokens)
  string(JSON token_count LENGTH "${line}" tokens)
  string(JSON logprob_count LENGTH "${line}" logprobs)
  string(JSON stop GET "${line}" stop)
  string(JSON first_logprob GET "${line}" logprobs 0)
  if(NOT token_count EQUAL logprob_count OR token_count GREATER 3)
    message(FATAL_ERROR "check_cli_outputs: tokens ${tokens} and logprobs do not line up: ${line}")
  endif()
  if(NOT (stop STREQUAL "length" OR stop STREQUAL "eos"))
    message(FATAL_ERROR "check_cli_outputs: unexpected stop reason '${stop}': ${line}")
  endif()
  if(stop STREQUAL "length")
    string(JSON complete GET "${line}" complete)
    if(complete)
      message(FATAL_ERROR "check_cli_outputs: a response cut by the budget is marked complete: ${line}")
    endif()
  endif()
  if(first_logprob GREATER 0)
    message(FATAL_ERROR "check_cli_outputs: a log-probability above 0: ${line}")
  endif()
endforeach()

# Without --with-tokens: prompt and response only.
run_tlcr("generate" generate --model ${WORK}/model --prompts ${WORK}/prompts.jsonl
         --out ${WORK}/plain.jsonl --max-new-tokens 3 --temperature 0)
file(STRINGS ${WORK}/plain.jsonl plain ENCODING UTF-8)
list(GET plain 0 first)
string(JSON has_tokens ERROR_VARIABLE no_tokens GET "${first}" tokens)
if(NOT no_tokens)
  message(FATAL_ERROR "check_cli_outputs: generate without --with-tokens wrote tokens: ${first}")
endif()

# score echoes the response it was given, not the tokens' re-decoded text.
file(WRITE ${WORK}/pairs.jsonl "{\"prompt\": \"the cat\", \"response\": \"sat on the mat\"}\n")
run_tlcr("score" score --reward random --data ${WORK}/pairs.jsonl --out ${WORK}/scored.jsonl
         --tokenizer ${WORK}/tokenizer.json)
file(STRINGS ${WORK}/scored.jsonl scored ENCODING UTF-8)
string(JSON echoed GET "${scored}" response)
if(NOT echoed STREQUAL "sat on the mat")
  message(FATAL_ERROR "check_cli_outputs: score wrote response '${echoed}', expected the input")
endif()

# sft takes generate's output as it is, cut-off responses included.
file(WRITE ${WORK}/sft.jsonl
     "{\"prompt\": \"the cat\", \"response\": \"sat on the mat\"}\n"
     "{\"prompt\": \"the dog\", \"response\": \"ran to the\", \"complete\": false}\n"
     "{\"prompt\": \"the cat\", \"response\": \"sat on\", \"complete\": false}\n")
# (with dropout at every site but the attention probabilities; the rates land in the checkpoint)
run_tlcr("sft" sft --model ${WORK}/model --data ${WORK}/sft.jsonl --out ${WORK}/sft-model
         --steps 2 --batch 2 --dropout 0.1 --attention-dropout 0)
file(READ ${WORK}/sft-model/checkpoint/trainer_state.json state)
string(JSON attention_rate GET "${state}" settings dropout attention)
string(JSON residual_rate GET "${state}" settings dropout residual)
if(NOT attention_rate EQUAL 0 OR NOT residual_rate MATCHES "^0\\.1")
  message(FATAL_ERROR "check_cli_outputs: sft dropout: expected residual 0.1 and attention 0, "
                      "found ${residual_rate} and ${attention_rate}")
endif()
# ppo: every setting is a flag; the settings used land in ppo_config.json.
run_tlcr("ppo" ppo --policy ${WORK}/model --reward random --prompts ${WORK}/prompts.jsonl
         --out ${WORK}/ppo --value-head --iterations 1 --batch 2 --minibatch-size 1
         --max-new-tokens 4 --kl-estimator k3 --kl-coef 0.2 --whiten-rewards false --lr 1e-4)
file(READ ${WORK}/ppo/ppo_config.json used)
# (CMake prints JSON numbers its own way, so a pattern: 0.2 may read 0.20000000000000001)
foreach(pair "kl_estimator=^k3$" "kl_coef=^0\\.2" "minibatch_size=^1$" "batch_size=^2$"
             "whiten_rewards=^OFF$" "lr=^0\\.0001" "epochs=^4$")  # epochs: the small preset's
  string(REPLACE "=" ";" parts "${pair}")
  list(GET parts 0 key)
  list(GET parts 1 expected)
  string(JSON value GET "${used}" ${key})
  if(NOT value MATCHES "${expected}")
    message(FATAL_ERROR "check_cli_outputs: ppo_config.json has ${key} = ${value}, expected ${expected}")
  endif()
endforeach()
# eval on prompts that are not the built-in task's: unscored, or scored by a user's program.
run_tlcr("eval" eval --policy ${WORK}/model --reference ${WORK}/model --prompts ${WORK}/prompts.jsonl
         --max-new-tokens 4 --out ${WORK}/eval.json)
file(READ ${WORK}/eval.json evaluation)
string(JSON has_score ERROR_VARIABLE unscored GET "${evaluation}" mean_score)
string(JSON kl GET "${evaluation}" mean_kl)  # full KL: exactly 0 for one model
if(NOT unscored OR NOT kl EQUAL 0)
  message(FATAL_ERROR "check_cli_outputs: eval without a scorer: ${evaluation}")
endif()
run_tlcr("eval --scorer" eval --policy ${WORK}/model --reference ${WORK}/model
         --prompts ${WORK}/prompts.jsonl --max-new-tokens 4 --out ${WORK}/eval.json
         --scorer "awk '{print NR}'")
file(READ ${WORK}/eval.json evaluation)
string(JSON scorer GET "${evaluation}" scorer)
string(JSON second GET "${evaluation}" samples 1 score)
if(NOT scorer STREQUAL "awk '{print NR}'" OR NOT second EQUAL 2)
  message(FATAL_ERROR "check_cli_outputs: eval --scorer: ${evaluation}")
endif()
message(STATUS "check_cli_outputs: all outputs as expected")
