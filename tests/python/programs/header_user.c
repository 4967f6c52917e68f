/* Includes deisa.h and calls one of its functions: compiled as C and as C++ to show the header
 * is valid in both (test_native_packaging.py: test_the_header_compiles_as_c_and_cplusplus). */
#include <deisa.h>

int main(void) { deisa_bridge *b = 0; return deisa_bridge_free(b); }
