! Timesteps are integer(int64): a default integer cannot take a timestep's place, so it cannot
! be mistaken for ierr either.
program close_default_integer_timestep
  use deisa
  implicit none
  type(deisa_bridge) :: bridge
  integer :: t, ierr
  t = 3
  call deisa_bridge_close(bridge, t, ierr)
end program close_default_integer_timestep
