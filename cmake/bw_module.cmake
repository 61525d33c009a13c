# One static library per layer under src/, linking only the layers DESIGN.md allows.
function(bw_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(bw_${name} STATIC ${M_SOURCES})
  target_include_directories(bw_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(bw_${name} PUBLIC ${M_DEPS})
  bw_set_warnings(bw_${name})
endfunction()
