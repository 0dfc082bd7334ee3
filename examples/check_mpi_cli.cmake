# cmake -P script: `mpiexec -np 2 tlcr pretrain`, `tlcr sft`, `tlcr train-reward-model` and
# `tlcr ppo` write bitwise the model of one process (3 micro-batches per step: uneven shards), and
# a command that does not train data-parallel refuses more than one rank, as does --device cuda.
#   cmake -DTLCR=<tlcr> -DMPIEXEC="<mpiexec;flags…>" -DWORK=<dir> -P check_mpi_cli.cmake
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
     "{\"prompt\": \"the cat\", \"chosen\": \"sat on\", \"rejected\": \"on on\"}\n")
file(WRITE ${WORK}/sft.jsonl "{\"prompt\": \"the cat\", \"response\": \"sat on the mat\"}\n"
                             "{\"prompt\": \"the dog\", \"response\": \"ran to the park\"}\n"
                             "{\"prompt\": \"the cat\", \"response\": \"ran\"}\n")

function(run name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err
                  TIMEOUT 120)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "check_mpi_cli: ${name} failed with '${status}':\n${out}\n${err}")
  endif()
endfunction()

run("tokenizer" ${TLCR} tokenizer train --corpus ${WORK}/corpus.txt --vocab-size 300
    --out ${WORK}/tokenizer.json)
set(pretrain pretrain --corpus ${WORK}/corpus.txt --tokenizer ${WORK}/tokenizer.json --context 48
    --layers 1 --width 16 --heads 2 --steps 4 --batch 2 --grad-accum 3 --dropout 0.1)
set(sft sft --data ${WORK}/sft.jsonl --steps 3 --batch 1 --grad-accum 3)
run("pretrain, 1 process" ${TLCR} ${pretrain} --out ${WORK}/one)
run("pretrain, 2 ranks" ${MPIEXEC} 2 ${TLCR} ${pretrain} --out ${WORK}/two)
run("sft, 1 process" ${TLCR} ${sft} --model ${WORK}/one --out ${WORK}/sft_one)
run("sft, 2 ranks" ${MPIEXEC} 2 ${TLCR} ${sft} --model ${WORK}/one --out ${WORK}/sft_two)
set(reward train-reward-model --sft ${WORK}/one --preferences ${WORK}/preferences.jsonl
    --batch-size 4 --micro-batches 3 --max-steps 2 --eval-fraction 0.2)
run("train-reward-model, 1 process" ${TLCR} ${reward} --out ${WORK}/rm_one)
run("train-reward-model, 2 ranks" ${MPIEXEC} 2 ${TLCR} ${reward} --out ${WORK}/rm_two)
# PPO against the Bradley–Terry model, with a separate critic from its trunk.
set(ppo ppo --policy ${WORK}/sft_one --reward sequence --reward-model ${WORK}/rm_one
    --prompts ${WORK}/preferences.jsonl --preset small --iterations 2 --batch 6
    --minibatch-size 3 --micro-batches 3 --max-new-tokens 6 --sample-every 0)
run("ppo, 1 process" ${TLCR} ${ppo} --out ${WORK}/ppo_one)
run("ppo, 2 ranks" ${MPIEXEC} 2 ${TLCR} ${ppo} --out ${WORK}/ppo_two)
file(STRINGS ${WORK}/ppo_two/metrics.jsonl records)
list(LENGTH records count)
if(NOT count EQUAL 2)
  message(FATAL_ERROR "check_mpi_cli: ppo on 2 ranks logged ${count} records, expected 2 (rank 0 alone)")
endif()
foreach(pair "one;two" "sft_one;sft_two" "rm_one;rm_two" "ppo_one;ppo_two")
  list(GET pair 0 a)
  list(GET pair 1 b)
  file(SHA256 ${WORK}/${a}/model.safetensors hash_a)
  file(SHA256 ${WORK}/${b}/model.safetensors hash_b)
  if(NOT hash_a STREQUAL hash_b)
    message(FATAL_ERROR "check_mpi_cli: ${a} and ${b} differ: 2 ranks must give 1 process's weights")
  endif()
endforeach()

execute_process(COMMAND ${MPIEXEC} 2 ${TLCR} generate --model ${WORK}/one
                        --prompts ${WORK}/sft.jsonl --out ${WORK}/samples.jsonl
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
if(status EQUAL 0 OR NOT err MATCHES "tlcr generate runs on one process, found 2 ranks")
  message(FATAL_ERROR "check_mpi_cli: generate on 2 ranks: expected a refusal, got '${status}':\n${err}")
endif()
execute_process(COMMAND ${MPIEXEC} 2 ${TLCR} ${pretrain} --out ${WORK}/gpus --device cuda
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
if(status EQUAL 0 OR NOT err MATCHES "--device cuda runs on one process, found 2 ranks")
  message(FATAL_ERROR "check_mpi_cli: --device cuda on 2 ranks: expected a refusal, got '${status}':\n${err}")
endif()
message(STATUS "2 ranks: pretrain, sft, train-reward-model, ppo bitwise as 1 process; generate and --device cuda refused")

# `tlcr dpo` from the SFT model: 2 ranks, 3 micro-batches per step (uneven: 1 + 1 + 2 pairs), the
# weights bitwise one process's; rank 0 alone writes the metrics.
set(dpo_args dpo --sft ${WORK}/sft_one --preferences ${WORK}/preferences.jsonl --batch-size 4
    --micro-batches 3 --max-steps 2 --eval-fraction 0.2 --lr 1e-3 --log-every 1)
run("dpo, 1 process" ${TLCR} ${dpo_args} --out ${WORK}/dpo_one)
run("dpo, 2 ranks" ${MPIEXEC} 2 ${TLCR} ${dpo_args} --out ${WORK}/dpo_two
    --metrics ${WORK}/dpo_two/metrics.jsonl)
file(SHA256 ${WORK}/dpo_one/model.safetensors hash_one)
file(SHA256 ${WORK}/dpo_two/model.safetensors hash_two)
if(NOT hash_one STREQUAL hash_two)
  message(FATAL_ERROR "check_mpi_cli: dpo_one and dpo_two differ: 2 ranks must give 1 process's weights")
endif()
file(STRINGS ${WORK}/dpo_two/metrics.jsonl records)
list(LENGTH records count)
if(NOT count EQUAL 2)
  message(FATAL_ERROR "check_mpi_cli: dpo on 2 ranks logged ${count} records, expected 2 (rank 0 alone)")
endif()
message(STATUS "2 ranks: dpo bitwise as 1 process")
