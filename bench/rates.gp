# Forwarding rates from rates.dat: method, then median/min/max Mpps at 64 and
# at 1500 bytes ("?" where not measured).
set terminal pngcairo size 1100,520 font "sans,10"
set output output
set title "Frames forwarded between veths, million per second (median of the run; bars: min..max)"
set datafile missing "?"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.85 border -1
set ylabel "Mpps"
set yrange [0:*]
set grid ytics
set xtics rotate by -25 scale 0
set key top right
plot data using 2:3:4:xtic(1) title "64-byte frames" linecolor rgb "#3b6ea5", \
     '' using 5:6:7 title "1500-byte frames" linecolor rgb "#e0a030"
