/* vetctl: the reviewer's and operator's CLI (placeholder). */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "vetctl: not built yet\n");
    return 70;
}
