! A dtype is a type(deisa_dtype), not an integer: an integer variable there (ierr, or a code)
! does not compile.
program declare_integer_dtype
  use deisa
  implicit none
  type(deisa_bridge) :: bridge
  integer :: ierr, code
  code = 11
  call deisa_bridge_declare_array(bridge, "field", [4, 4], [4, 4], [0, 0], code, ierr)
end program declare_integer_dtype
