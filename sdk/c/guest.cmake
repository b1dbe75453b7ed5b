# wg_http_guest(OUTPUT file.wasm SOURCES a.c b.c ...): builds an http-wasm guest from C sources
# and sdk/c/http_handler_sdk.c with clang-19 --target=wasm32-wasi (wasi-libc). -nostartfiles:
# the SDK defines _start (see http_handler_sdk.c). No -O on the link line (with binaryen installed
# clang would run wasm-opt); --strip-debug drops wasi-libc's debug sections.
# wg_wat_guest(OUTPUT file.wasm SOURCE x.wat): assembles a guest written in WAT.
find_program(WG_CLANG_WASM clang-19 REQUIRED)
find_program(WG_WAT2WASM wat2wasm REQUIRED)
set(WG_SDK_C_DIR ${CMAKE_CURRENT_LIST_DIR})

function(wg_http_guest)
  cmake_parse_arguments(G "" "OUTPUT" "SOURCES" ${ARGN})
  get_filename_component(name ${G_OUTPUT} NAME_WE)
  get_filename_component(dir ${G_OUTPUT} DIRECTORY)
  set(objdir ${dir}/${name}-obj)
  set(objs)
  foreach(src ${G_SOURCES} ${WG_SDK_C_DIR}/http_handler_sdk.c)
    get_filename_component(n ${src} NAME_WE)
    list(APPEND objs ${objdir}/${n}.o)
  endforeach()
  add_custom_command(OUTPUT ${G_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${objdir}
    COMMAND ${CMAKE_COMMAND} -E chdir ${objdir} ${WG_CLANG_WASM} --target=wasm32-wasi -O2 -Wall -Wextra -Werror
            -I${WG_SDK_C_DIR} -c ${G_SOURCES} ${WG_SDK_C_DIR}/http_handler_sdk.c
    COMMAND ${WG_CLANG_WASM} --target=wasm32-wasi -nostartfiles -Wl,--strip-debug ${objs} -o ${G_OUTPUT}
    DEPENDS ${G_SOURCES} ${WG_SDK_C_DIR}/http_handler_sdk.c ${WG_SDK_C_DIR}/http_handler.h VERBATIM)
endfunction()

function(wg_wat_guest)
  cmake_parse_arguments(G "" "OUTPUT;SOURCE" "" ${ARGN})
  get_filename_component(dir ${G_OUTPUT} DIRECTORY)
  add_custom_command(OUTPUT ${G_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND ${WG_WAT2WASM} --debug-names ${G_SOURCE} -o ${G_OUTPUT}
    DEPENDS ${G_SOURCE} VERBATIM)
endfunction()
