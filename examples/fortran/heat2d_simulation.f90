! A 2-D heat-equation simulation in Fortran (MPI) that hands its field to Deisa every
! timestep: the same model as examples/heat2d_simulation.py, watched by the same
! Python analytics (examples/heat_analytics.py).
!
! The plate u(row, column) is split over the ranks with a 2-D Cartesian decomposition
! (MPI_Dims_create; blocks may differ in size by one cell). Each rank advances its block with
! an explicit 5-point stencil, exchanging one-cell halos with its neighbours. Every timestep
! it sends its block as "temperature" -- the analytics sees u(i, j) as temperature[i-1, j-1],
! no transpose, no copy -- and reads the analytics' "cooling" feedback, a factor applied to
! the heaters' power.
!
!   mpirun -np 4 heat2d_fortran --steps 150 --size 256
program heat2d_simulation
  use, intrinsic :: iso_fortran_env, only: real64, int64, output_unit, error_unit
  use mpi_f08
  use deisa
  implicit none

  real(real64), parameter :: HEATER_POWER = 0.5_real64   ! degrees per iteration at a heater's centre
  real(real64), parameter :: LOSS = 2e-3_real64          ! fraction lost to the ambient per iteration
  real(real64), parameter :: DIFFUSION = 0.2_real64      ! alpha dt / dx**2 (stable up to 0.25)
  ! Heaters as (row, column, radius) in fractions of the plate's sides.
  real(real64), parameter :: HEATERS(3, 3) = reshape([0.5_real64, 0.5_real64, 0.06_real64, &
                                                      0.25_real64, 0.7_real64, 0.04_real64, &
                                                      0.72_real64, 0.25_real64, 0.05_real64], [3, 3])

  integer :: steps, substeps, global(2), dims(2), coords(2), block(2), offset(2)
  integer :: rank, nranks, ierr, i
  integer(int64) :: t
  real(real64) :: timeout, heating, factor
  real(real64), allocatable :: u(:, :), source(:, :)
  logical :: found
  type(MPI_Comm) :: cart
  type(deisa_bridge) :: bridge
  type(deisa_bridge_options) :: options

  call MPI_Init()
  call parse_args(steps, global, substeps, timeout)
  call MPI_Comm_size(MPI_COMM_WORLD, nranks)
  dims = 0
  call MPI_Dims_create(nranks, 2, dims)
  if (any(dims > global)) then
    write (error_unit, '(a, i0, a, i0, a)') "a ", dims(1), "x", dims(2), " decomposition does not fit the grid"
    call MPI_Abort(MPI_COMM_WORLD, 2)
  end if
  call MPI_Cart_create(MPI_COMM_WORLD, 2, dims, [.false., .false.], .false., cart)
  call MPI_Comm_rank(cart, rank)
  call MPI_Cart_coords(cart, rank, 2, coords)
  do i = 1, 2
    call split(global(i), dims(i), coords(i), block(i), offset(i))
  end do

  allocate(u(0:block(1) + 1, 0:block(2) + 1), source(block(1), block(2)))
  u = 0
  call heater_source(source, offset, global)
  heating = 1
  if (rank == 0) then
    write (output_unit, '(a, i0, a, i0, a, i0, a, i0, a, i0, a, i0, a)') "simulation: ", global(1), "x", global(2), &
      " plate on ", nranks, " ranks (", dims(1), "x", dims(2), " blocks), ", steps, " timesteps (Fortran)"
    flush (output_unit)
  end if

  options%timeout = timeout
  call deisa_bridge_open(bridge, rank, nranks, options, ierr)
  call check(ierr, "open")
  call deisa_bridge_declare_array(bridge, "temperature", global, block, coords, DEISA_FLOAT64, ierr)
  call check(ierr, "declare_array")
  call deisa_bridge_connect(bridge, ierr)
  call check(ierr, "connect")

  do t = 0, steps - 1_int64
    ! The interior is a non-contiguous section: the compiler makes it contiguous, then Deisa
    ! copies it once into shared memory.
    call deisa_bridge_send(bridge, "temperature", u(1:block(1), 1:block(2)), t, ierr)
    call check(ierr, "send")
    ! send(t) returned, so the callbacks of t-1 have finished (max_simulation_ahead=1) and
    ! their feedback is there. Every rank gets the same answer.
    call deisa_bridge_get(bridge, "cooling", t - 1, factor, found, ierr)
    call check(ierr, "get")
    if (found .and. factor /= heating) then
      if (rank == 0) then
        if (factor < heating) then
          write (output_unit, '(a, i0, a, i0, a, g0.4)') "simulation: timestep ", t, ": feedback for timestep ", &
            t - 1, ": cooling, heater power x", factor
        else
          write (output_unit, '(a, i0, a, i0, a, g0.4)') "simulation: timestep ", t, ": feedback for timestep ", &
            t - 1, ": heating again, heater power x", factor
        end if
        flush (output_unit)
      end if
      heating = factor
    end if
    call advance(cart, u, source, heating, substeps)
  end do

  call deisa_bridge_close(bridge, ierr)
  call check(ierr, "close")
  call deisa_bridge_free(bridge, ierr)
  if (rank == 0) then
    write (output_unit, '(a, i0, a)') "simulation: done, ", steps, " timesteps sent"
    flush (output_unit)
  end if
  call MPI_Finalize()

contains

  !> Stops every rank with Deisa's message when a call failed.
  subroutine check(status, what)
    integer, intent(in) :: status
    character(len=*), intent(in) :: what
    if (status == DEISA_OK) return
    write (error_unit, '(a, i0, a, a, a, i0, a, a)') "simulation: rank ", rank, ": deisa ", what, &
      " failed (", status, "): ", deisa_last_error()
    call MPI_Abort(MPI_COMM_WORLD, 1)
  end subroutine check

  !> --steps N, --size N | --size NY NX, --substeps N, --timeout S.
  subroutine parse_args(steps, global, substeps, timeout)
    integer, intent(out) :: steps, global(2), substeps
    real(real64), intent(out) :: timeout
    character(len=64) :: arg, next
    integer :: k, n, status
    steps = 150; global = 256; substeps = 10; timeout = 300
    n = command_argument_count()
    k = 1
    do while (k <= n)
      call get_command_argument(k, arg)
      call get_command_argument(k + 1, next)
      select case (trim(arg))
      case ("--steps")
        read (next, *, iostat=status) steps
      case ("--substeps")
        read (next, *, iostat=status) substeps
      case ("--timeout")
        read (next, *, iostat=status) timeout
      case ("--size")
        read (next, *, iostat=status) global(1)
        global(2) = global(1)
        if (k + 2 <= n) then
          call get_command_argument(k + 2, next)
          if (next(1:1) /= "-") then
            read (next, *, iostat=status) global(2)
            k = k + 1
          end if
        end if
      case default
        status = 1
      end select
      if (status /= 0 .or. k + 1 > n) then
        write (error_unit, '(a, a)') "usage: heat2d_fortran [--steps N] [--size N | --size NY NX] ", &
          "[--substeps N] [--timeout SECONDS]; bad argument: " // trim(arg)
        call MPI_Abort(MPI_COMM_WORLD, 2)
      end if
      k = k + 2
    end do
  end subroutine parse_args

  !> Size and 0-based offset of block `index` when n cells are split into `parts` near-equal blocks.
  subroutine split(n, parts, index, size, offset)
    integer, intent(in) :: n, parts, index
    integer, intent(out) :: size, offset
    size = n / parts
    offset = index * size + min(index, mod(n, parts))
    if (index < mod(n, parts)) size = size + 1
  end subroutine split

  !> Heater power per cell of this block: round Gaussian spots placed relative to the global plate.
  subroutine heater_source(source, offset, global)
    real(real64), intent(out) :: source(:, :)
    integer, intent(in) :: offset(2), global(2)
    real(real64) :: scale, d2
    integer :: i, j, h
    scale = minval(global)
    source = 0
    do h = 1, size(HEATERS, 2)
      do j = 1, size(source, 2)
        do i = 1, size(source, 1)
          d2 = (offset(1) + i - 1 - HEATERS(1, h) * global(1))**2 + (offset(2) + j - 1 - HEATERS(2, h) * global(2))**2
          source(i, j) = source(i, j) + exp(-d2 / (2 * (HEATERS(3, h) * scale)**2))
        end do
      end do
    end do
    source = HEATER_POWER * source
  end subroutine heater_source

  !> Fills the ghost frame of u from the four neighbours (MPI_PROC_NULL at the plate's edges,
  !> whose ghost cells keep the fixed edge temperature 0).
  subroutine exchange_halos(cart, u)
    type(MPI_Comm), intent(in) :: cart
    real(real64), intent(inout) :: u(0:, 0:)
    integer :: north, south, west, east, ny, nx
    real(real64), allocatable :: sendbuf(:), recvbuf(:)
    ny = size(u, 1) - 2
    nx = size(u, 2) - 2
    call MPI_Cart_shift(cart, 0, 1, north, south)
    call MPI_Cart_shift(cart, 1, 1, west, east)
    ! Rows are strided in Fortran: go through contiguous buffers.
    allocate(sendbuf(nx), recvbuf(nx))
    sendbuf = u(ny, 1:nx)
    call MPI_Sendrecv(sendbuf, nx, MPI_DOUBLE_PRECISION, south, 0, recvbuf, nx, MPI_DOUBLE_PRECISION, north, 0, &
                      cart, MPI_STATUS_IGNORE)
    if (north /= MPI_PROC_NULL) u(0, 1:nx) = recvbuf
    sendbuf = u(1, 1:nx)
    call MPI_Sendrecv(sendbuf, nx, MPI_DOUBLE_PRECISION, north, 1, recvbuf, nx, MPI_DOUBLE_PRECISION, south, 1, &
                      cart, MPI_STATUS_IGNORE)
    if (south /= MPI_PROC_NULL) u(ny + 1, 1:nx) = recvbuf
    ! Columns are contiguous: send and receive in place.
    call MPI_Sendrecv(u(1, nx), ny, MPI_DOUBLE_PRECISION, east, 2, u(1, 0), ny, MPI_DOUBLE_PRECISION, west, 2, &
                      cart, MPI_STATUS_IGNORE)
    call MPI_Sendrecv(u(1, 1), ny, MPI_DOUBLE_PRECISION, west, 3, u(1, nx + 1), ny, MPI_DOUBLE_PRECISION, east, 3, &
                      cart, MPI_STATUS_IGNORE)
  end subroutine exchange_halos

  !> `iterations` explicit Euler steps of du/dt = laplacian(u) + heating * source - loss * u.
  subroutine advance(cart, u, source, heating, iterations)
    type(MPI_Comm), intent(in) :: cart
    real(real64), intent(inout) :: u(0:, 0:)
    real(real64), intent(in) :: source(:, :), heating
    integer, intent(in) :: iterations
    real(real64), allocatable :: laplacian(:, :)
    integer :: k, ny, nx
    ny = size(u, 1) - 2
    nx = size(u, 2) - 2
    allocate(laplacian(ny, nx))
    do k = 1, iterations
      call exchange_halos(cart, u)
      laplacian = u(0:ny - 1, 1:nx) + u(2:ny + 1, 1:nx) + u(1:ny, 0:nx - 1) + u(1:ny, 2:nx + 1) - 4 * u(1:ny, 1:nx)
      u(1:ny, 1:nx) = u(1:ny, 1:nx) + (DIFFUSION * laplacian + heating * source - LOSS * u(1:ny, 1:nx))
    end do
  end subroutine advance

end program heat2d_simulation
