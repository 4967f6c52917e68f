! ierr is last: the settings go in a type(deisa_bridge_options) before it, not after it.
program open_options_after_ierr
  use deisa
  implicit none
  type(deisa_bridge) :: bridge
  integer :: ierr
  call deisa_bridge_open(bridge, 0, 1, ierr, timeout=60d0)
end program open_options_after_ierr
