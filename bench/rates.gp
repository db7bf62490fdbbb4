# Forwarding rates from rates.dat (method, frame bytes, median, min, max Mpps).
set terminal pngcairo size 1100,520 font "sans,10"
set output output
set title "64-byte frames forwarded between veths, Mpps (median of the run; bars: min..max)"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.8
set ylabel "million frames per second"
set yrange [0:*]
set grid ytics
set xtics rotate by -30 scale 0
unset key
plot data using ($2 == 64 ? $3 : 1/0):4:5:xtic(1) linecolor rgb "#3b6ea5"
