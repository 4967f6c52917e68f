! Fortran simulation driven by tests/python/test_native_simulations.py under mpirun.
!
! Arrays (rank r of n, timesteps 0..2; values encode their indices so the analytics can
! check the index-order rule element by element):
!   field  real64 (3, 5n)     block (3, 5) at (0, r), sent from a non-contiguous section:
!                             field(i, j) = 1000 t + 100 i + (5 r + j)
!   cube   int32  (2, 3, 4n)  block (2, 3, 4) at (0, 0, r):
!                             cube(i, j, k) = 10000 t + i + 10 j + 100 (4 r + k)
!   vec    real32 (4n)        block (4) at (r): vec(i) = 4 r + i + 0.5
!   counts int64  (2, 3n)     zero-copy (acquire + deisa_block_data): 7 t + 100 i + (3 r + j)
! Feedback read after each send of t (the callbacks of t-1 ran): "step" (int), "scale"
! (float), "label" (text), printed as "FEEDBACK rank t key found value".
! Bad calls are printed as "ERROR name ierr message"; the run goes on after each.
! Timesteps are integer(int64), as the module takes them: t64 is the loop's t.
program fortran_simulation
  use, intrinsic :: iso_fortran_env, only: int32, int64, real32, real64, output_unit
  use mpi_f08
  use deisa
  implicit none

  integer, parameter :: STEPS = 3
  type(deisa_bridge) :: bridge, unopened
  type(deisa_bridge_options) :: options
  type(deisa_block) :: blk, never_acquired
  integer :: rank, n, ierr, t, i, j, k
  real(real64) :: big(0:5, 0:8), scale64
  integer(int32) :: cube(2, 3, 4), step32
  real(real32) :: vec(4), scale32
  integer(int64) :: step64, t64
  integer(int64), pointer :: counts(:, :)
  real(real32), pointer :: wrong_kind(:, :)
  integer(int64), pointer :: wrong_rank(:)
  character(len=16) :: label
  character(len=1) :: short_label
  logical :: found, lost

  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  call MPI_Comm_size(MPI_COMM_WORLD, n)

  ! A bridge that was never opened is an invalid handle, not a crash.
  call deisa_bridge_connect(unopened, ierr)
  call report_error("connect_unopened", ierr)

  options%timeout = 60
  call deisa_bridge_open(bridge, rank, n, options, ierr)
  call check(ierr, "open")
  call deisa_bridge_declare_array(bridge, "field", [3, 5 * n], [3, 5], [0, rank], DEISA_FLOAT64, ierr)
  call check(ierr, "declare field")
  call deisa_bridge_declare_array(bridge, "cube", [2_int64, 3_int64, 4_int64 * n], [2_int64, 3_int64, 4_int64], &
                                  [0_int64, 0_int64, int(rank, int64)], ierr)
  call check(ierr, "declare cube")
  call deisa_bridge_declare_array(bridge, "vec", [4 * n], [4], [rank], DEISA_FLOAT32, ierr)
  call check(ierr, "declare vec")
  call deisa_bridge_declare_array(bridge, "counts", [2, 3 * n], [2, 3], [0, rank], DEISA_INT64, ierr)
  call check(ierr, "declare counts")
  call deisa_bridge_declare_array(bridge, "mismatch", [4, 4], [2, 2, 2], [0, 0], ierr)
  call report_error("declare_mismatched_sizes", ierr)
  call deisa_bridge_connect(bridge, ierr)
  call check(ierr, "connect")

  do t = 0, STEPS - 1
    t64 = t
    big = -1
    do j = 1, 5
      do i = 1, 3
        big(i + 1, j + 2) = 1000 * t + 100 * i + (5 * rank + j)
      end do
    end do
    do k = 1, 4
      do j = 1, 3
        do i = 1, 2
          cube(i, j, k) = 10000 * t + i + 10 * j + 100 * (4 * rank + k)
        end do
      end do
    end do
    do i = 1, 4
      vec(i) = 4 * rank + i + 0.5
    end do

    call deisa_bridge_send(bridge, "field", big(2:4, 3:7), t64, ierr)      ! a section: copied in
    call check(ierr, "send field")
    call deisa_bridge_send(bridge, "cube", cube, t64, ierr)
    call check(ierr, "send cube")
    call deisa_bridge_send(bridge, "vec", vec, t64, ierr)
    call check(ierr, "send vec")

    call deisa_bridge_acquire(bridge, "counts", t64, blk, ierr)
    call check(ierr, "acquire counts")
    if (t == 0) then
      call deisa_block_data(blk, wrong_kind, ierr)
      call report_error("block_data_wrong_kind", ierr)
      call deisa_block_data(blk, wrong_rank, ierr)
      call report_error("block_data_wrong_rank", ierr)
    end if
    call deisa_block_data(blk, counts, ierr)
    call check(ierr, "block_data counts")
    if (size(counts, 1) /= 2 .or. size(counts, 2) /= 3) call check(DEISA_ERR_VALUE, "counts pointer shape")
    do j = 1, 3
      do i = 1, 2
        counts(i, j) = 7 * t + 100 * i + (3 * rank + j)
      end do
    end do
    call deisa_block_commit(blk, ierr)
    call check(ierr, "commit counts")

    if (t == 0) call bad_sends()

    ! send(t) returned, so the callbacks of t-1 ran and set their feedback.
    step32 = -1; step64 = -1; scale64 = -1; scale32 = -1; label = "none"
    call deisa_bridge_get(bridge, "step", t64 - 1, step32, found, ierr)
    call check(ierr, "get step int32")
    write (output_unit, '(a, i0, 1x, i0, a, l1, 1x, i0)') "FEEDBACK ", rank, t - 1, " step32 ", found, step32
    call deisa_bridge_get(bridge, "step", t64 - 1, step64, found, ierr)
    call check(ierr, "get step int64")
    write (output_unit, '(a, i0, 1x, i0, a, l1, 1x, i0)') "FEEDBACK ", rank, t - 1, " step64 ", found, step64
    call deisa_bridge_get(bridge, "scale", t64 - 1, scale64, found, ierr)
    call check(ierr, "get scale real64")
    write (output_unit, '(a, i0, 1x, i0, a, l1, 1x, g0)') "FEEDBACK ", rank, t - 1, " scale64 ", found, scale64
    call deisa_bridge_get(bridge, "scale", t64 - 1, scale32, found, ierr)
    call check(ierr, "get scale real32")
    write (output_unit, '(a, i0, 1x, i0, a, l1, 1x, g0)') "FEEDBACK ", rank, t - 1, " scale32 ", found, scale32
    call deisa_bridge_get(bridge, "label", t64 - 1, label, found, ierr)
    call check(ierr, "get label")
    write (output_unit, '(a, i0, 1x, i0, a, l1, 1x, a)') "FEEDBACK ", rank, t - 1, " label ", found, trim(label)
    flush (output_unit)
  end do

  ! Never set: found is false and the value is left as it was.
  step32 = 42
  call deisa_bridge_get(bridge, "step", 99_int64, step32, found, ierr)
  call check(ierr, "get step 99")
  write (output_unit, '(a, i0, 1x, i0, a, l1, 1x, i0)') "FEEDBACK ", rank, 99, " step32 ", found, step32
  ! A variable too short for the text is an error, not a silent truncation.
  call deisa_bridge_get(bridge, "label", 1_int64, short_label, found, ierr)
  call report_error("get_label_too_short", ierr)
  call deisa_bridge_analytics_lost(bridge, lost, ierr)
  call check(ierr, "analytics_lost")
  write (output_unit, '(a, i0, 1x, l1)') "LOST ", rank, lost
  call deisa_bridge_close(bridge, int(STEPS, int64), ierr)
  call check(ierr, "close")
  call deisa_bridge_free(bridge, ierr)
  call check(ierr, "free")
  call deisa_block_data(never_acquired, counts, ierr)
  call report_error("block_data_not_acquired", ierr)
  write (output_unit, '(a, i0)') "DONE ", rank
  call MPI_Finalize()

contains

  subroutine bad_sends()
    real(real64) :: wrong_shape(3, 4), scalar
    integer(int32) :: wrong_type(3, 5)
    wrong_shape = 0; scalar = 0; wrong_type = 0
    call deisa_bridge_send(bridge, "nothing", wrong_shape, 0_int64, ierr)
    call report_error("send_undeclared", ierr)
    call deisa_bridge_send(bridge, "field", wrong_shape, 1_int64, ierr)
    call report_error("send_wrong_shape", ierr)
    call deisa_bridge_send(bridge, "field", wrong_type, 1_int64, ierr)
    call report_error("send_wrong_type", ierr)
    call deisa_bridge_send(bridge, "field", scalar, 1_int64, ierr)
    call report_error("send_scalar", ierr)
  end subroutine bad_sends

  subroutine report_error(name, status)
    character(len=*), intent(in) :: name
    integer, intent(in) :: status
    if (rank /= 0) return
    write (output_unit, '(a, a, 1x, i0, 1x, a)') "ERROR ", name, status, deisa_last_error()
    flush (output_unit)
  end subroutine report_error

  subroutine check(status, what)
    integer, intent(in) :: status
    character(len=*), intent(in) :: what
    if (status == DEISA_OK) return
    write (output_unit, '(a, i0, a, a, a, i0, a, a)') "FAILED rank ", rank, ": ", what, " (", status, "): ", &
      deisa_last_error()
    flush (output_unit)
    call MPI_Abort(MPI_COMM_WORLD, 1)
  end subroutine check

end program fortran_simulation
