/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder until the program lands. */
int main(void)
{
        return 1;
}
