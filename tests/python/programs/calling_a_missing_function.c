/* Calls a function deisa.h does not declare: it must not compile, and the compiler's message
 * must reach the test (test_c_abi.py: test_compile_errors_carry_the_compilers_output). */
#include <deisa.h>

int main(void) { return deisa_no_such_function(42); }
