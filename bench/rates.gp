# Forwarding rates from rates.dat: one block per setup (veth, gro-veth, tap,
# jumbo, vxlan: see results.md), drawn as a group of bars each; in a block,
# method, then median/min/max Mpps at 64, 1500 and 9000 bytes ("?" where not
# measured). The first line, "# setups: veth=64,1500 jumbo=9000 ...", names
# the blocks in order and the sizes each has.
set terminal pngcairo size 1500,650 font "sans,10"
set output output
set title "Frames forwarded, million per second, by setup (median of the run; bars: min..max; log scale)"
set datafile missing "?"
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.85 border -1
set ylabel "Mpps"
# Log scale: a tap or a 9000-byte frame moves a tenth of what a veth does at
# 64 bytes, and would not show on a linear axis.
set logscale y
set yrange [0.005:*]
set grid ytics
set xtics rotate by -35 scale 0 font "sans,8"
set bmargin 11
set key top right
setups = system("sed -n 's/^# setups: //p' '" . data . "'")
colors = "#3b6ea5 #e0a030 #5a9e5a"
names = "64 1500 9000"
# The key names each frame size once; the bars carry no titles.
cmd = "plot keyentry with boxes linecolor rgb \"#3b6ea5\" title \"64-byte frames\"," . \
      " keyentry with boxes linecolor rgb \"#e0a030\" title \"1500-byte frames\"," . \
      " keyentry with boxes linecolor rgb \"#5a9e5a\" title \"9000-byte frames\""
do for [i = 1:words(setups)] {
    entry = word(setups, i)
    setup = entry[1:strstrt(entry, "=") - 1]
    sizes = "," . entry[strstrt(entry, "=") + 1:] . ","
    cmd = cmd . sprintf(", newhistogram \"%s\" font \"sans,11\" offset 0,-2", setup)
    labelled = 0
    do for [s = 1:3] {
        if (strstrt(sizes, "," . word(names, s) . ",") > 0) {
            column = 3 * s - 1
            cmd = cmd . sprintf(", data index %d using %d:%d:%d%s notitle linecolor rgb \"%s\"", \
                                i - 1, column, column + 1, column + 2, \
                                labelled ? "" : ":xtic(1)", word(colors, s))
            labelled = 1
        }
    }
}
eval cmd
