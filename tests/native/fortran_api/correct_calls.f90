! The calls of the module as they are meant: it must compile (the other programs of this
! directory are the same calls made wrong, and must not).
program correct_calls
  use, intrinsic :: iso_fortran_env, only: int64, real64
  use deisa
  implicit none
  type(deisa_bridge) :: bridge
  type(deisa_bridge_options) :: options
  type(deisa_block) :: blk
  integer(int64) :: t
  integer :: ierr
  real(real64) :: field(4, 4), factor
  logical :: found
  t = 0
  field = 0
  options%timeout = 60
  call deisa_bridge_open(bridge, 0, 1, ierr)
  call deisa_bridge_open(bridge, 0, 1, options, ierr)
  call deisa_bridge_declare_array(bridge, "field", [4, 4], [4, 4], [0, 0], ierr)
  call deisa_bridge_declare_array(bridge, "field", [4, 4], [4, 4], [0, 0], DEISA_FLOAT64, ierr)
  call deisa_bridge_send(bridge, "field", field, t, ierr)
  call deisa_bridge_acquire(bridge, "field", t, blk, ierr)
  call deisa_bridge_acquire(bridge, "field", t, DEISA_FLOAT64, blk, ierr)
  call deisa_bridge_get(bridge, "cooling", t, factor, found, ierr)
  call deisa_bridge_close(bridge, ierr)
  call deisa_bridge_close(bridge, t, ierr)
end program correct_calls
