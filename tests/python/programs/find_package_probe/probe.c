/* Prints the version of the library it is linked with (see CMakeLists.txt). */
#include <deisa.h>
#include <stdio.h>

int main(void) { puts(deisa_version()); return 0; }
