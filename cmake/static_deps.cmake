# wg_prefer_static(TARGET ARCHIVE): when WG_STATIC_DEPS is on and the
# library's -dev package ships ARCHIVE (e.g. libuv_a.a) in one of the
# pkg-config target's library directories, TARGET (a PkgConfig:: imported
# target) links that archive instead of the shared library; its include
# directories and compile options stay. Otherwise TARGET is left as it is.
#
# Why: `wasmgate wasm run` and every sidecar start paid the dynamic loader's
# relocation of ten shared libraries (2.0M of the 3.0M instructions of a
# hello-world run, ~0.6 ms of CPU); docs/engine.md ("Start-up") has the numbers.
# The price: a Debian security update of one of these libraries needs a
# rebuild of wasmgate (as for any static binary); -DWG_STATIC_DEPS=OFF links
# the shared libraries. libpq, libcurl and libmosquitto stay dlopen'ed.
include_guard(GLOBAL)
option(WG_STATIC_DEPS "Link libuv, jansson, libyaml, SQLite, hiredis, nghttp2, protobuf-c, http-parser and zlib statically when their archives are installed" ON)

# Sets OUT to the path of ARCHIVE when WG_STATIC_DEPS is on and it is installed, else to "".
function(wg_find_archive out archive)
  set(${out} "" PARENT_SCOPE)
  if(NOT WG_STATIC_DEPS)
    return()
  endif()
  string(MAKE_C_IDENTIFIER "WG_ARCHIVE_${archive}" var)
  find_library(${var} NAMES ${archive} PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE} /usr/local/lib /usr/lib
               NO_DEFAULT_PATH)
  if(${var})
    set(${out} ${${var}} PARENT_SCOPE)
  endif()
endfunction()

function(wg_prefer_static target archive)
  wg_find_archive(path ${archive})
  if(path AND TARGET ${target})
    set_property(TARGET ${target} PROPERTY INTERFACE_LINK_LIBRARIES ${path})
    set_property(TARGET ${target} PROPERTY INTERFACE_LINK_OPTIONS "")
  endif()
endfunction()

# The same for a library found by find_library (http-parser has no .pc file):
# sets OUT to the archive when it is preferred and installed, else to SHARED.
function(wg_static_library out shared archive)
  wg_find_archive(path ${archive})
  if(path)
    set(${out} ${path} PARENT_SCOPE)
  else()
    set(${out} ${shared} PARENT_SCOPE)
  endif()
endfunction()
