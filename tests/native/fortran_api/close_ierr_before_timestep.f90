! ierr is last: a timestep after it does not bind (the old deisa_bridge_close(bridge, ierr, timestep)).
program close_ierr_before_timestep
  use, intrinsic :: iso_fortran_env, only: int64
  use deisa
  implicit none
  type(deisa_bridge) :: bridge
  integer(int64) :: t
  integer :: ierr
  t = 3
  call deisa_bridge_close(bridge, ierr, t)
end program close_ierr_before_timestep
