set key left top
set grid
set xlabel 'audio duration (s)'
set datafile missing 'nan'
f0_0(x) = 0.101535303 + 0.0440173912*x
f0_1(x) = 0 + 0.0723917237*x
f1_0(x) = 0.289713183 + 0.134641055*x
f1_1(x) = 0.061079261 + 0.194407044*x
f2_0(x) = 1.04883193 + 0.398183014*x
f2_1(x) = 0 + 0.67231871*x
set terminal pngcairo size 900,560
set output 'time_vs_duration.png'
set ylabel 'processing time (s), median and 95% interval'
plot 'audio_points.dat' index 0 using 1:2:3:4 with yerrorbars title 'fast', f0_0(x) with lines dashtype 2 title 'fast: all files', f0_1(x) with lines dashtype 3 title 'fast: one-piece files', 'audio_points.dat' index 1 using 1:2:3:4 with yerrorbars title 'balanced', f1_0(x) with lines dashtype 2 title 'balanced: all files', f1_1(x) with lines dashtype 3 title 'balanced: one-piece files', 'audio_points.dat' index 2 using 1:2:3:4 with yerrorbars title 'accurate', f2_0(x) with lines dashtype 2 title 'accurate: all files', f2_1(x) with lines dashtype 3 title 'accurate: one-piece files'
set terminal pngcairo size 900,560
set output 'rtf_vs_duration.png'
set ylabel 'real-time factor (process / audio)'
plot 'audio_points.dat' index 0 using 1:5 with points title 'fast', 'audio_points.dat' index 1 using 1:5 with points title 'balanced', 'audio_points.dat' index 2 using 1:5 with points title 'accurate'
set terminal pngcairo size 900,560
set output 'memory_vs_duration.png'
set ylabel 'peak PSS of the server tree (MiB)'
plot 'audio_points.dat' index 0 using 1:6 with points title 'fast', 'audio_points.dat' index 1 using 1:6 with points title 'balanced', 'audio_points.dat' index 2 using 1:6 with points title 'accurate'
set terminal svg size 900,560 dynamic
set output 'time_vs_duration.svg'
set ylabel 'processing time (s), median and 95% interval'
plot 'audio_points.dat' index 0 using 1:2:3:4 with yerrorbars title 'fast', f0_0(x) with lines dashtype 2 title 'fast: all files', f0_1(x) with lines dashtype 3 title 'fast: one-piece files', 'audio_points.dat' index 1 using 1:2:3:4 with yerrorbars title 'balanced', f1_0(x) with lines dashtype 2 title 'balanced: all files', f1_1(x) with lines dashtype 3 title 'balanced: one-piece files', 'audio_points.dat' index 2 using 1:2:3:4 with yerrorbars title 'accurate', f2_0(x) with lines dashtype 2 title 'accurate: all files', f2_1(x) with lines dashtype 3 title 'accurate: one-piece files'
set terminal svg size 900,560 dynamic
set output 'rtf_vs_duration.svg'
set ylabel 'real-time factor (process / audio)'
plot 'audio_points.dat' index 0 using 1:5 with points title 'fast', 'audio_points.dat' index 1 using 1:5 with points title 'balanced', 'audio_points.dat' index 2 using 1:5 with points title 'accurate'
set terminal svg size 900,560 dynamic
set output 'memory_vs_duration.svg'
set ylabel 'peak PSS of the server tree (MiB)'
plot 'audio_points.dat' index 0 using 1:6 with points title 'fast', 'audio_points.dat' index 1 using 1:6 with points title 'balanced', 'audio_points.dat' index 2 using 1:6 with points title 'accurate'
