/* Tests of the bind module: one executable, cases in test_*.c. */
#include "test.h"

int main(int argc, char **argv) { return test_main(argc, argv); }
