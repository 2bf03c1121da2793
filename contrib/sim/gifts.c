/** @file gifts.c
 * The gift catalogue (see gifts.h). Cheap gifts first, as the gift panel orders them; the
 * streakable ones are the combo gifts viewers tap repeatedly, which is what makes streak
 * handling (repeatEnd) matter to clients.
 *
 * SPDX-License-Identifier: MIT
 */
#include "gifts.h"

#include <strings.h>

/* clang-format off */
const struct gift sim_gifts[] = {
    { 5655, "Rose",              1,     1 },
    { 5269, "TikTok",            1,     1 },
    { 6064, "GG",                1,     1 },
    { 5827, "Ice Cream Cone",    1,     1 },
    { 6247, "Heart",             1,     1 },
    { 6788, "Glow Stick",        1,     1 },
    { 5479, "Coffee",            1,     1 },
    { 5487, "Finger Heart",      5,     1 },
    { 5650, "Mic",               5,     1 },
    { 37,   "Panda",             5,     1 },
    { 6059, "Hand Wave",         9,     1 },
    { 5657, "Lollipop",          10,    1 },
    { 5658, "Perfume",           20,    1 },
    { 5879, "Doughnut",          30,    1 },
    { 6070, "Mirror",            30,    1 },
    { 5659, "Paper Crane",       99,    2 },
    { 5585, "Confetti",          100,   2 },
    { 5915, "Music Note",        169,   2 },
    { 6671, "Love You",          199,   2 },
    { 6007, "Boxing Gloves",     299,   2 },
    { 6267, "Corgi",             299,   2 },
    { 7168, "Money Gun",         500,   2 },
    { 5897, "Swan",              699,   2 },
    { 6090, "Fireworks",         1088,  2 },
    { 5955, "Champion",          1500,  2 },
    { 6348, "Rabbit",            1999,  2 },
    { 5652, "Ferris Wheel",      3000,  2 },
    { 5767, "Private Jet",       4888,  2 },
    { 5483, "Unicorn Fantasy",   5000,  2 },
    { 6103, "Yacht",             9888,  2 },
    { 5954, "Planet",            15000, 2 },
    { 6751, "TikTok Shuttle",    20000, 2 },
    { 6369, "Lion",              29999, 2 },
    { 6038, "TikTok Universe",   34999, 2 },
};
/* clang-format on */

const size_t sim_n_gifts = sizeof(sim_gifts) / sizeof(sim_gifts[0]);

int gift_find_id(int64_t id)
{
    for (size_t i = 0; i < sim_n_gifts; i++)
        if (sim_gifts[i].id == id)
            return (int)i;
    return -1;
}

int gift_find_name(const char *name)
{
    for (size_t i = 0; i < sim_n_gifts; i++)
        if (strcasecmp(sim_gifts[i].name, name) == 0)
            return (int)i;
    return -1;
}
