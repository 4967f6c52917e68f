! ierr is last: a dtype after it does not bind (the old keyword form put options after ierr).
program declare_dtype_after_ierr
  use deisa
  implicit none
  type(deisa_bridge) :: bridge
  integer :: ierr
  call deisa_bridge_declare_array(bridge, "field", [4, 4], [4, 4], [0, 0], ierr, DEISA_FLOAT64)
end program declare_dtype_after_ierr
