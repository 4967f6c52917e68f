# CMake package config of Deisa, shipped inside the Python package:
#
#   find_package(Deisa REQUIRED)        # with Deisa_DIR=$(python -m deisa --cmake-dir)
#   target_link_libraries(sim PRIVATE Deisa::deisa)           # C / C++: #include <deisa.h>
#   target_link_libraries(sim PRIVATE Deisa::deisa_fortran)   # Fortran: use deisa
#
# Deisa::deisa_fortran compiles the module source (deisa.f90) with the project's own Fortran
# compiler, since .mod files only fit the compiler that wrote them; it exists when the
# project enables Fortran before calling find_package.

get_filename_component(_deisa_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
set(Deisa_INCLUDE_DIR "${_deisa_prefix}/include")
set(Deisa_LIBRARY "${_deisa_prefix}/lib/libdeisa.so")
set(Deisa_FORTRAN_SOURCE "${Deisa_INCLUDE_DIR}/deisa.f90")

if(NOT EXISTS "${Deisa_LIBRARY}" OR NOT EXISTS "${Deisa_INCLUDE_DIR}/deisa.h")
  set(Deisa_FOUND FALSE)
  set(Deisa_NOT_FOUND_MESSAGE "libdeisa.so or deisa.h is missing under ${_deisa_prefix}")
  return()
endif()

if(NOT TARGET Deisa::deisa)
  add_library(Deisa::deisa SHARED IMPORTED)
  set_target_properties(Deisa::deisa PROPERTIES
    IMPORTED_LOCATION "${Deisa_LIBRARY}"
    IMPORTED_SONAME "libdeisa.so"
    INTERFACE_INCLUDE_DIRECTORIES "${Deisa_INCLUDE_DIR}")
endif()

get_property(_deisa_languages GLOBAL PROPERTY ENABLED_LANGUAGES)
if("Fortran" IN_LIST _deisa_languages AND NOT TARGET Deisa::deisa_fortran)
  add_library(deisa_fortran STATIC "${Deisa_FORTRAN_SOURCE}")
  set_target_properties(deisa_fortran PROPERTIES
    Fortran_MODULE_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}/deisa_fortran_modules"
    POSITION_INDEPENDENT_CODE ON)
  target_include_directories(deisa_fortran INTERFACE "${CMAKE_CURRENT_BINARY_DIR}/deisa_fortran_modules")
  target_link_libraries(deisa_fortran PUBLIC Deisa::deisa)
  add_library(Deisa::deisa_fortran ALIAS deisa_fortran)
endif()

set(Deisa_FOUND TRUE)
unset(_deisa_prefix)
unset(_deisa_languages)
