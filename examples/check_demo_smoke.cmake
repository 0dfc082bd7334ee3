# Runs `tlcr demo --smoke --study` (every arm, KL-targeted runs, at toy size) into OUT and checks
# results.json, the table, the plots and the HTML view; then --resume: the same demo again reuses
# every stage and run and reports the same numbers, a third seed adds only its own runs, and other
# settings are refused, and records without a device (older ones) resume as made on the CPU.
# cmake -DTLCR=<tlcr binary> -DOUT=<dir> -P check_demo_smoke.cmake
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${TLCR} demo --smoke --study --out ${OUT} RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "tlcr demo --smoke failed with status ${status}")
endif()
foreach(file results.json results.md score_vs_iteration.svg score_vs_kl.svg score_vs_kl_curves.svg
             token_rewards.html dpo/seed0/policy/model.safetensors
             sft/model.safetensors discriminator/model.safetensors reward_model/model.safetensors)
  if(NOT EXISTS ${OUT}/${file})
    message(FATAL_ERROR "tlcr demo --smoke did not write ${file}")
  endif()
endforeach()
file(READ ${OUT}/results.json results)
set(arms sequence sequence-uniform sequence-attention tlcr tlcr+rounds discrete dpo-offline dpo-tokens)
foreach(kind sft ${arms})
  foreach(field "oracle_score;mean" "oracle_score;std" kl length win_rate)
    string(JSON value ERROR_VARIABLE error GET "${results}" ${kind} ${field})
    if(error)
      message(FATAL_ERROR "results.json: ${kind}.${field}: ${error}")
    endif()
  endforeach()
endforeach()
foreach(kind ${arms})
  string(JSON budgets ERROR_VARIABLE error LENGTH "${results}" ${kind} score_at_kl)
  if(error OR budgets LESS 1)
    message(FATAL_ERROR "results.json: ${kind}.score_at_kl missing or empty ${error}")
  endif()
endforeach()
foreach(kind ${arms})
  if(NOT kind STREQUAL "sequence")  # paired differences against the baseline
    string(JSON budgets ERROR_VARIABLE error LENGTH "${results}" ${kind} score_at_kl_minus_sequence)
    if(error OR NOT budgets EQUAL 4)
      message(FATAL_ERROR "results.json: ${kind}.score_at_kl_minus_sequence: ${error}")
    endif()
  endif()
  if(NOT kind STREQUAL "dpo-offline" AND NOT kind STREQUAL "tlcr+rounds")  # adaptive-β runs
    string(JSON score ERROR_VARIABLE error GET "${results}" ${kind} kl_targeted 2 score seeds)
    if(error OR NOT score EQUAL 2)
      message(FATAL_ERROR "results.json: ${kind}.kl_targeted.2.score.seeds: '${score}' ${error}")
    endif()
  endif()
endforeach()
string(JSON seeds GET "${results}" config seeds)
if(NOT seeds EQUAL 2)
  message(FATAL_ERROR "results.json: expected 2 seeds in the smoke run, found ${seeds}")
endif()

# --resume with the same settings: nothing is trained again, the numbers are the same.
execute_process(COMMAND ${TLCR} demo --smoke --study --resume --out ${OUT} RESULT_VARIABLE status
                ERROR_VARIABLE log)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "tlcr demo --smoke --study --resume failed with status ${status}: ${log}")
endif()
foreach(expected "pretraining and SFT: finished before" "ppo tlcr+rounds seed1: finished before"
                 "ppo discrete seed1_kl4: finished before"
                 "dpo seed 1: finished before")
  string(FIND "${log}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "tlcr demo --resume: expected '${expected}' in its log:\n${log}")
  endif()
endforeach()
string(FIND "${log}" "supervised fine-tuning" at)
if(NOT at EQUAL -1)
  message(FATAL_ERROR "tlcr demo --resume trained SFT again:\n${log}")
endif()
file(READ ${OUT}/results.json resumed)
foreach(kind ${arms})
  string(JSON before GET "${results}" ${kind})
  string(JSON after GET "${resumed}" ${kind})
  if(NOT before STREQUAL after)
    message(FATAL_ERROR "results.json: ${kind} differs after --resume:\n${before}\n${after}")
  endif()
endforeach()

# A third seed: only its runs are new.
file(SHA256 ${OUT}/ppo/tlcr/seed0/result.json seed0_before)
execute_process(COMMAND ${TLCR} demo --smoke --study --resume --seeds 3 --out ${OUT}
                RESULT_VARIABLE status ERROR_VARIABLE log)
string(FIND "${log}" "ppo tlcr seed2 step" new_run)
string(FIND "${log}" "ppo tlcr seed0: finished before" old_run)
if(NOT status EQUAL 0 OR new_run EQUAL -1 OR old_run EQUAL -1 OR NOT EXISTS ${OUT}/ppo/tlcr/seed2/result.json)
  message(FATAL_ERROR "tlcr demo --resume --seeds 3 did not add a third seed only:\n${log}")
endif()
file(SHA256 ${OUT}/ppo/tlcr/seed0/result.json seed0_after)
file(READ ${OUT}/results.json three)
string(JSON seeds GET "${three}" config seeds)
string(JSON tlcr_seeds GET "${three}" tlcr kl_targeted 2 score seeds)
if(NOT seed0_before STREQUAL seed0_after OR NOT seeds EQUAL 3 OR NOT tlcr_seeds EQUAL 3)
  message(FATAL_ERROR "tlcr demo --resume --seeds 3: seeds ${seeds}, tlcr's ${tlcr_seeds}")
endif()

# Other settings: refused before anything runs, naming the setting.
execute_process(COMMAND ${TLCR} demo --smoke --study --resume --seed 2 --out ${OUT}
                RESULT_VARIABLE status ERROR_VARIABLE log)
string(FIND "${log}" "setting 'seed' was 1, this run has 2" at)
if(status EQUAL 0 OR at EQUAL -1)
  message(FATAL_ERROR "tlcr demo --resume --seed 2 should be refused, got ${status}:\n${log}")
endif()

# Records written before --device existed hold no device: they resume as made on the CPU.
foreach(record_file stages.json ppo/tlcr/seed0/result.json)
  file(READ ${OUT}/${record_file} record)
  string(JSON record REMOVE "${record}" settings device)
  file(WRITE ${OUT}/${record_file} "${record}")
endforeach()
execute_process(COMMAND ${TLCR} demo --smoke --study --resume --seeds 3 --out ${OUT}
                RESULT_VARIABLE status ERROR_VARIABLE log)
string(FIND "${log}" "pretraining and SFT: finished before" stages_reused)
string(FIND "${log}" "ppo tlcr seed0: finished before" run_reused)
if(NOT status EQUAL 0 OR stages_reused EQUAL -1 OR run_reused EQUAL -1)
  message(FATAL_ERROR "tlcr demo --resume of records without a device failed (${status}):\n${log}")
endif()
