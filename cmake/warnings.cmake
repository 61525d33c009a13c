# Warnings are errors in CI (BW_WERROR=ON there); locally they are shown.
function(bw_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wnon-virtual-dtor -Wno-missing-field-initializers)
  # GCC 12 reports Asio's coroutine frame allocator (operator new/delete pairs it
  # cannot match across inlining) as mismatched: a known false positive.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-mismatched-new-delete)
  endif()
  if(BW_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
