"""Butterworth filters of the UCI HAR signal chain, as second-order sections at 50 Hz.

The coefficients are ``scipy.signal.butter(order, cutoff / 25, output="sos")`` written out, so that
importing the engine does not import ``scipy.signal`` (over a second of start-up on a phone-class
CPU, most of it in modules the engine never uses). A test checks them against scipy, bit for bit.
"""

import numpy as np

#: Noise low-pass: order 10, 20 Hz.
NOISE_SOS = np.array([
    [0.12837301330223735, 0.2567460266044747, 0.12837301330223735, 1.0, 1.023716668584059, 0.2653833920695206],
    [1.0, 2.0, 1.0, 1.0, 1.0618968468751013, 0.3125766878303106],
    [1.0, 2.0, 1.0, 1.0, 1.1429805025399007, 0.41280159809618844],
    [1.0, 2.0, 1.0, 1.0, 1.2772114832789292, 0.5787202149760926],
    [1.0, 2.0, 1.0, 1.0, 1.4817841285386752, 0.8315859108540888],
])

#: Gravity low-pass: order 3, 0.3 Hz.
GRAVITY_SOS = np.array([
    [6.4518491290909294e-06, 1.2903698258181859e-05, 6.4518491290909294e-06, 1.0, -0.9629940509502153, 0.0],
    [1.0, 1.0, 0.0, 1.0, -1.9616121845004821, 0.9630069546484734],
])

#: Gyro drift low-pass: order 2, 0.1 Hz.
GYRO_DRIFT_SOS = np.array([
    [3.913020539914434e-05, 7.826041079828868e-05, 3.913020539914434e-05, 1.0, -1.9822289297925284, 0.9823854506141251],
])

#: (order, cutoff in Hz) of each, for the test that rebuilds them.
DESIGNS = {"NOISE_SOS": (10, 20.0), "GRAVITY_SOS": (3, 0.3), "GYRO_DRIFT_SOS": (2, 0.1)}
