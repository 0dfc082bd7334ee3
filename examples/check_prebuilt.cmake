# cmake -P script: the prebuilt instances do their job. first_gpt links tlcr_prebuilt, so its own
# object must define none of the kernels, differentiable functions or model code that the prebuilt
# library holds (they are declared extern, tlcr/config.hpp), must reference them instead, and the
# program must still train (exit status 0: the loss fell).
#   cmake -DNM=<nm> -DOBJECT=<first_gpt.o> -DPROGRAM=<first_gpt> -P check_prebuilt.cmake
execute_process(COMMAND ${NM} -C ${OBJECT} OUTPUT_VARIABLE symbols COMMAND_ERROR_IS_FATAL ANY)
string(REPLACE "\n" ";" lines "${symbols}")
# Names from the prebuilt lists: kernels, differentiable functions, the model's forward pass.
set(prebuilt_regex "tlcr::(linear_forward|matmul_backward|layernorm_forward|causal_attention_forward|adamw_update|linear|layernorm|causal_attention|gelu|linear_cross_entropy|clip_grad_norm|backward)<float|tlcr::Transformer<float, tlcr::Gpt2Arch, tlcr::Cpu>::(hidden|Transformer)")
set(defined "")
set(referenced 0)
foreach(line IN LISTS lines)
  if(line MATCHES " [TW] " AND line MATCHES "${prebuilt_regex}")
    string(APPEND defined "\n  ${line}")
  elseif(line MATCHES " U " AND line MATCHES "${prebuilt_regex}")
    math(EXPR referenced "${referenced} + 1")
  endif()
endforeach()
if(defined)
  message(FATAL_ERROR "check_prebuilt: ${OBJECT} compiled instances the prebuilt library holds "
                      "(is an extern list missing or a template declared inline?):${defined}")
endif()
if(referenced LESS 4)
  message(FATAL_ERROR "check_prebuilt: expected ${OBJECT} to reference at least 4 prebuilt instances "
                      "(the model's forward, the loss, backward, adamw_update …), found ${referenced}")
endif()
execute_process(COMMAND ${PROGRAM} RESULT_VARIABLE status OUTPUT_VARIABLE output)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "check_prebuilt: ${PROGRAM} exited with ${status}: ${output}")
endif()
message(STATUS "check_prebuilt: ${referenced} prebuilt instances referenced, none compiled; ${output}")
