set key left top
set grid
set xlabel 'audio duration (s)'
f0(x) = 0.106342968 + 0.0202920267*x
f1(x) = 0.463024665 + 0.0604297374*x
f2(x) = 3.06322315 + 0.190872889*x
set terminal pngcairo size 900,560
set output 'time_vs_duration.png'
set ylabel 'processing time (s)'
plot 'audio_points.dat' index 0 using 1:2 with linespoints title 'fast', f0(x) with lines dashtype 2 title 'fast fit', 'audio_points.dat' index 1 using 1:2 with linespoints title 'balanced', f1(x) with lines dashtype 2 title 'balanced fit', 'audio_points.dat' index 2 using 1:2 with linespoints title 'accurate', f2(x) with lines dashtype 2 title 'accurate fit'
set terminal pngcairo size 900,560
set output 'rtf_vs_duration.png'
set ylabel 'real-time factor (process / audio)'
plot 'audio_points.dat' index 0 using 1:3 with linespoints title 'fast', 'audio_points.dat' index 1 using 1:3 with linespoints title 'balanced', 'audio_points.dat' index 2 using 1:3 with linespoints title 'accurate'
set terminal pngcairo size 900,560
set output 'memory_vs_duration.png'
set ylabel 'peak PSS of server tree (MiB)'
plot 'audio_points.dat' index 0 using 1:4 with linespoints title 'fast', 'audio_points.dat' index 1 using 1:4 with linespoints title 'balanced', 'audio_points.dat' index 2 using 1:4 with linespoints title 'accurate'
set terminal svg size 900,560 dynamic
set output 'time_vs_duration.svg'
set ylabel 'processing time (s)'
plot 'audio_points.dat' index 0 using 1:2 with linespoints title 'fast', f0(x) with lines dashtype 2 title 'fast fit', 'audio_points.dat' index 1 using 1:2 with linespoints title 'balanced', f1(x) with lines dashtype 2 title 'balanced fit', 'audio_points.dat' index 2 using 1:2 with linespoints title 'accurate', f2(x) with lines dashtype 2 title 'accurate fit'
set terminal svg size 900,560 dynamic
set output 'rtf_vs_duration.svg'
set ylabel 'real-time factor (process / audio)'
plot 'audio_points.dat' index 0 using 1:3 with linespoints title 'fast', 'audio_points.dat' index 1 using 1:3 with linespoints title 'balanced', 'audio_points.dat' index 2 using 1:3 with linespoints title 'accurate'
set terminal svg size 900,560 dynamic
set output 'memory_vs_duration.svg'
set ylabel 'peak PSS of server tree (MiB)'
plot 'audio_points.dat' index 0 using 1:4 with linespoints title 'fast', 'audio_points.dat' index 1 using 1:4 with linespoints title 'balanced', 'audio_points.dat' index 2 using 1:4 with linespoints title 'accurate'
