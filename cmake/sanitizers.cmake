# BW_SANITIZE="address;undefined" or "thread": applies to every target.
if(BW_SANITIZE)
  string(REPLACE ";" "," _bw_san "${BW_SANITIZE}")
  add_compile_options(-fsanitize=${_bw_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_bw_san})
endif()

# BW_FUZZ: instrument every library for libFuzzer (clang), with ASan and UBSan.
if(BW_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
