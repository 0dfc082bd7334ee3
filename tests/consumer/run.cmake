# cmake -P script: build and run the consumer project in MODE subdirectory or find_package.
# No build type (no optimisation): the check is that it builds, links and runs, and -O0 halves the
# compile time of the prebuilt instances.
file(REMOVE_RECURSE ${WORK})
set(options)
if(MODE STREQUAL "find_package")
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${TLCR_SOURCE} -B ${WORK}/tlcr-build
                          -DTLCR_BUILD_TESTS=OFF -DTLCR_BUILD_BENCHMARKS=OFF -DTLCR_BUILD_EXAMPLES=OFF
                          -DCMAKE_INSTALL_PREFIX=${WORK}/prefix
                  COMMAND_ERROR_IS_FATAL ANY)
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${WORK}/tlcr-build COMMAND_ERROR_IS_FATAL ANY)
  set(options -DCMAKE_PREFIX_PATH=${WORK}/prefix)
else()
  set(options -DTLCR_SOURCE=${TLCR_SOURCE})
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${TLCR_SOURCE}/tests/consumer -B ${WORK}/build
                        -DTLCR_CONSUMER_MODE=${MODE} ${options}
                COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK}/build COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${WORK}/build/consumer COMMAND_ERROR_IS_FATAL ANY)
