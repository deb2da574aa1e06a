/* vetd: the application-review queue daemon (placeholder until the daemon lands). */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "vetd: not built yet\n");
    return 70;
}
