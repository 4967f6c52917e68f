! A send's timestep is integer(int64).
program send_default_integer_timestep
  use, intrinsic :: iso_fortran_env, only: real64
  use deisa
  implicit none
  type(deisa_bridge) :: bridge
  real(real64) :: field(4, 4)
  integer :: t, ierr
  t = 0
  field = 0
  call deisa_bridge_send(bridge, "field", field, t, ierr)
end program send_default_integer_timestep
