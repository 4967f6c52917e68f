! A feedback's timestep is integer(int64).
program get_default_integer_timestep
  use, intrinsic :: iso_fortran_env, only: real64
  use deisa
  implicit none
  type(deisa_bridge) :: bridge
  real(real64) :: factor
  logical :: found
  integer :: ierr
  call deisa_bridge_get(bridge, "cooling", 3, factor, found, ierr)
end program get_default_integer_timestep
