# One static library per layer under src/, linking only the layers DESIGN.md allows.
function(bw_module name)
  cmake_parse_arguments(M "ASIO" "" "SOURCES;DEPS" ${ARGN})
  add_library(bw_${name} STATIC ${M_SOURCES})
  if(M_ASIO)
    bw_precompile_asio(bw_${name})
  endif()
  target_include_directories(bw_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(bw_${name} PUBLIC ${M_DEPS})
  bw_set_warnings(bw_${name})
endfunction()

# Asio's headers, parsed once per build instead of once per file: the first
# target to ask (bw_net) makes the precompiled header, the others reuse it. They
# share its compile flags and definitions, as the header requires.
function(bw_precompile_asio target)
  get_property(owner GLOBAL PROPERTY BW_ASIO_PCH_OWNER)
  if(owner)
    target_precompile_headers(${target} REUSE_FROM ${owner})
  else()
    target_precompile_headers(${target} PRIVATE ${PROJECT_SOURCE_DIR}/cmake/precompiled.hpp)
    set_property(GLOBAL PROPERTY BW_ASIO_PCH_OWNER ${target})
  endif()
endfunction()
