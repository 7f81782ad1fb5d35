"""Synthetic Sprites: procedurally drawn Sprites-like characters, built in seconds with no download.

Every character (a combination of body, bottom, top and hair, 6 values each) performs 3 actions
(walk, spellcast, slash) towards 3 directions (left, front, right), 8 frames of 64x64 RGB each:
the layout, features and sizes of the real Sprites release (`datasets/sprites`). The `*16` configs
draw the same motions over 16 frames at finer phase steps (for MoCoGAN's 16-frame video
discriminator); only the video's length differs from the 8-frame configs.

Drawing is done once per body shape: OpenCV paints a *label map* per (hair style, top style,
bottom style, action, direction, frame) whose pixels name a part (skin, top, hair, blade ...); a
character's video is then a palette lookup `palette[labels]`, so that the full 1296-character
default config renders in a few seconds.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math

import cv2
from etils import epath
import numpy as np
import tensorflow_datasets as tfds

from rjkeras.datasets.sprites.sprites_dataset_builder import (
    ACTIONS, ATTRIBUTES, DIRECTIONS, IMAGE_SIZE, NUM_ATTRIBUTE_VALUES, NUM_FRAMES, features)
from rjkeras.errors import UserError

NUM_COMBINATIONS = NUM_ATTRIBUTE_VALUES ** len(ATTRIBUTES)  # 1296
# Beyond this a walk cycle or a slash would move by less than a pixel a frame (and the
# build's memory and time grow with the frames).
MAX_FRAMES = 64

# ---------------------------------------------------------------------------------------------
# Appearance: what each attribute value looks like.

# Part labels of the label maps; a character's palette maps each to an RGB colour.
(BG, SHADOW, OUTLINE, SKIN, SKIN_FAR, TOP, TOP_FAR, BOTTOM, BOTTOM_FAR, HAIR, SHOES, EYE,
 BLADE, HILT, GLOW) = range(15)
NUM_LABELS = 15
_FAR = {SKIN: SKIN_FAR, TOP: TOP_FAR, BOTTOM: BOTTOM_FAR}  # limbs behind the body, shaded darker

# body: skin tones (LPC-like: light, tanned, dark, dark elf, orc, red orc).
SKIN_COLOURS = ((245, 208, 170), (205, 145, 95), (115, 72, 45), (150, 160, 205), (115, 170, 80),
                (205, 85, 65))
# top: a colour and a sleeve style per value.
TOP_COLOURS = ((200, 40, 40), (45, 85, 205), (45, 150, 70), (240, 140, 30), (135, 60, 170),
               (30, 165, 170))
TOP_STYLES = ("long_sleeves", "short_sleeves", "sleeveless") * 2
# bottom: a colour and a cut per value.
BOTTOM_COLOURS = ((30, 50, 140), (120, 75, 35), (35, 35, 40), (200, 180, 115), (110, 45, 140),
                  (40, 115, 50))
BOTTOM_STYLES = ("trousers", "shorts", "skirt") * 2
# hair: a colour and a style per value.
HAIR_COLOURS = ((30, 25, 25), (245, 220, 110), (185, 50, 20), (110, 65, 30), (235, 90, 175),
                (185, 190, 205))
HAIR_STYLES = ("short", "long", "spiky", "bun", "mohawk", "afro")
BACKGROUNDS = ((236, 232, 220), (220, 230, 238), (226, 236, 220))
_FIXED_COLOURS = {OUTLINE: (28, 24, 36), SHOES: (70, 45, 30), EYE: (20, 20, 30),
                  BLADE: (205, 210, 225), HILT: (160, 115, 40), GLOW: (120, 235, 255)}

# ---------------------------------------------------------------------------------------------
# Poses: joint positions per (action, view, frame). Angles are radians from straight down,
# positive towards the outside of the body (front view) or towards the facing side (profile).

_GROUND = 58.0
_UPPER_ARM, _FOREARM, _THIGH, _SHIN = 8.5, 8.0, 9.0, 9.0
# slash: wind up (frames 1-3), swing (3-5), follow through (5-7). These are the key poses of the
# 8-frame clip; longer clips interpolate between them (`_key`).
# Profile: the sword arm's angle, an overhead chop towards the facing side.
_SLASH_PROFILE = (0.3, 1.5, 2.9, 3.5, 2.1, 0.9, 0.4, 0.3)
# Front: a diagonal cut across the body, as the hand's offset from its shoulder and the blade's
# image angle (degrees; 0 down, 90 right, 180 up, 270 left).
_SLASH_FRONT_HAND = ((1, 16), (6, 6), (5, -8), (2, -7), (-6, 2), (-12, 9), (-8, 13), (0, 16))
_SLASH_FRONT_BLADE = (30, 100, 165, 205, 250, 300, 330, 15)


def _key(table, position: float, period: float | None = None):
    """Linear interpolation of key poses `table` at a fractional key index `position`.

    An integer position returns the table's entry itself (not a float recomputation), so the
    8-frame clips, whose frames sit on the keys, are drawn exactly as before interpolation existed.
    `period` (e.g. 360 for angles in degrees) interpolates along the shorter way round.
    """
    low = int(math.floor(position))
    if position == low:
        return table[low]
    frac = position - low
    a, b = np.asarray(table[low], float), np.asarray(table[low + 1], float)
    step = b - a
    if period is not None:
        step = (step + period / 2) % period - period / 2  # e.g. 330 -> 15 degrees goes up through 360
    return a + frac * step


def _direction(angle: float, sign: float) -> np.ndarray:
    return np.array([sign * math.sin(angle), math.cos(angle)])


def _reach(shoulder, hand, length1, length2):
    """Two-segment inverse kinematics: (elbow, hand), the elbow bent outwards (+x) or down."""
    offset = hand - shoulder
    dist = float(np.clip(np.linalg.norm(offset), abs(length1 - length2) + 1e-3, length1 + length2 - 1e-3))
    unit = offset / max(np.linalg.norm(offset), 1e-6)
    along = (length1 ** 2 - length2 ** 2 + dist ** 2) / (2 * dist)
    perp = np.array([-unit[1], unit[0]])
    if perp[0] < 0 or (perp[0] == 0 and perp[1] < 0):
        perp = -perp
    elbow = shoulder + along * unit + math.sqrt(max(length1 ** 2 - along ** 2, 0.0)) * perp
    return elbow, shoulder + dist * unit


def _chain(origin, angle1, angle2, length1, length2, sign):
    """Two-segment limb from `origin`: returns (joint, end) points."""
    joint = origin + length1 * _direction(angle1, sign)
    return joint, joint + length2 * _direction(angle2, sign)


@dataclasses.dataclass
class _Limb:
    root: np.ndarray
    joint: np.ndarray
    end: np.ndarray
    far: bool = False  # profile only: behind the torso


@dataclasses.dataclass
class _Pose:
    """Joints of one frame; `view` is "front" or "profile" (facing left, -x)."""

    view: str
    head: np.ndarray
    arms: list  # [_Limb]; the weapon arm (slash) is arms[-1]
    legs: list  # [_Limb]
    sword: tuple | None = None  # (hilt point, tip point)
    glow: float = 0.0  # glow radius around the hands (spellcast)


def _pose(action: str, view: str, frame: int, num_frames: int = NUM_FRAMES) -> _Pose:
    """Joint positions of frame `frame` of a `num_frames`-frame clip; the figure is shifted so that
    its lowest foot is on the ground.

    Every motion spans the whole clip whatever its length: a longer clip samples the same cycle at
    finer phase steps (so 16 frames are not 8 frames shown twice).
    Side 0 and 1 are the screen-left and screen-right limbs (front view) or the near and far limbs
    (profile; the slash swaps the arms so that the sword arm is the near one).
    """
    phase = 2.0 * math.pi * frame / num_frames  # walk: one full stride cycle over the clip
    raise_ = math.sin(math.pi * frame / (num_frames - 1))  # spellcast: arms up, then down
    # slash: the clip's first and last frames are the first and last key poses.
    key = frame * (len(_SLASH_PROFILE) - 1) / (num_frames - 1)
    front = view == "front"
    shoulders = [np.array([24.5, 25.0]), np.array([39.5, 25.0])] if front else [np.array([32.0, 25.0])] * 2
    hips = [np.array([28.5, 40.0]), np.array([35.5, 40.0])] if front else [np.array([32.0, 40.0])] * 2
    # Angle signs: the front view mirrors its two sides; in profile every limb bends to the facing side.
    signs = (-1.0, 1.0) if front else (-1.0, -1.0)
    arms, legs, sword, glow = [], [], None, 0.0
    for side, sign in enumerate(signs):
        leg_phase = phase + math.pi * side  # the legs are half a stride apart
        # Legs.
        if action == "walk" and front:
            # Seen from the front a stride shows as alternating foot lifts.
            lift = max(0.0, math.sin(leg_phase))
            knee = hips[side] + np.array([0.5 * sign, _THIGH - 3.0 * lift])
            foot = knee + np.array([0.0, _SHIN - 2.0 * lift])
        elif action == "walk":
            thigh = 0.5 * math.sin(leg_phase)
            bend = 0.9 * max(0.0, math.cos(leg_phase))  # the knee flexes while the leg swings forward
            knee, foot = _chain(hips[side], thigh, thigh - bend, _THIGH, _SHIN, sign)
        elif front:
            spread = 2.5 if action == "slash" else 0.5  # a wide stance for the slash
            knee = hips[side] + np.array([spread * 0.5 * sign, _THIGH])
            foot = hips[side] + np.array([spread * sign, _THIGH + _SHIN])
        else:
            thigh = (0.15, -0.15)[side] if action == "spellcast" else (0.4, -0.35)[side]  # stance
            knee, foot = _chain(hips[side], thigh, thigh - 0.1, _THIGH, _SHIN, sign)
        legs.append(_Limb(hips[side], knee, foot, far=not front and side == 1))
        # Arms.
        sword_arm = action == "slash" and side == 1
        if action == "walk":
            if front:  # the hand swinging forward rises and shows as a bent forearm
                arm_angle, forearm_angle = 0.15, 0.15 + 1.6 * max(0.0, -math.sin(leg_phase))
            else:  # arms swing against the legs
                arm_angle = -0.55 * math.sin(leg_phase)
                forearm_angle = arm_angle + 0.35
        elif action == "spellcast":
            arm_angle = 0.2 + 2.35 * raise_ - (0.0 if front or side == 0 else 0.25)
            forearm_angle = arm_angle + 0.45 * raise_
            glow = 1.5 + 3.0 * (raise_ - 0.45) / 0.55 if raise_ > 0.45 else 0.0
        elif sword_arm and not front:
            arm_angle = _key(_SLASH_PROFILE, key)
            forearm_angle = arm_angle + 0.25
        else:  # the free arm on guard
            arm_angle, forearm_angle = (0.2, 0.3) if front else (0.6, 1.2)
        if sword_arm and front:
            hand = shoulders[side] + np.array(_key(_SLASH_FRONT_HAND, key), float)
            elbow, hand = _reach(shoulders[side], hand, _UPPER_ARM, _FOREARM)
            blade = _direction(math.radians(_key(_SLASH_FRONT_BLADE, key, period=360)), 1.0)
        else:
            elbow, hand = _chain(shoulders[side], arm_angle, forearm_angle, _UPPER_ARM, _FOREARM, sign)
            blade = _direction(forearm_angle + 0.5, sign)
        if sword_arm:
            sword = (hand, hand + 14.0 * blade)
        far_arm = not front and (side == 0 if action == "slash" else side == 1)
        arms.append(_Limb(shoulders[side], elbow, hand, far=far_arm))
    head = np.array([32.0, 15.0]) if front else np.array([31.0, 15.0])
    pose = _Pose(view, head, arms, legs, sword, glow)
    # Ground contact: shift the whole figure so that its lowest foot stands on the ground.
    lowest = max(leg.end[1] for leg in legs) + 1.5
    shift = np.array([0.0, _GROUND - lowest])
    pose.head = pose.head + shift
    for limb in arms + legs:
        limb.root, limb.joint, limb.end = limb.root + shift, limb.joint + shift, limb.end + shift
    if sword is not None:
        pose.sword = (sword[0] + shift, sword[1] + shift)
    return pose


# ---------------------------------------------------------------------------------------------
# Drawing label maps with OpenCV (sub-pixel coordinates via `shift`).

_SHIFT = 2
_SCALE = 1 << _SHIFT


def _pt(p) -> tuple[int, int]:
    return int(round(p[0] * _SCALE)), int(round(p[1] * _SCALE))


def _line(canvas, p, q, label, width):
    cv2.line(canvas, _pt(p), _pt(q), label, int(width), cv2.LINE_8, _SHIFT)


def _disc(canvas, p, radius, label):
    cv2.circle(canvas, _pt(p), int(round(radius * _SCALE)), label, -1, cv2.LINE_8, _SHIFT)


def _ellipse(canvas, centre, axes, label, start=0, end=360, thickness=-1):
    axes = (int(round(axes[0] * _SCALE)), int(round(axes[1] * _SCALE)))
    cv2.ellipse(canvas, _pt(centre), axes, 0, start, end, label, thickness, cv2.LINE_8, _SHIFT)


def _poly(canvas, points, label):
    pts = np.array([_pt(p) for p in points], np.int32)
    cv2.fillPoly(canvas, [pts], label, cv2.LINE_8, _SHIFT)


def _draw_leg(canvas, leg, bottom_style, profile):
    cloth = _FAR[BOTTOM] if leg.far else BOTTOM
    skin = _FAR[SKIN] if leg.far else SKIN
    _line(canvas, leg.root, leg.joint, skin if bottom_style == "skirt" else cloth, 5)
    _line(canvas, leg.joint, leg.end, cloth if bottom_style == "trousers" else skin, 4)
    toe = np.array([-1.5 if profile else 0.0, 0.0])  # profile feet point to the facing side (-x)
    _ellipse(canvas, leg.end + toe, (2.5, 1.6), SHOES)


def _draw_arm(canvas, arm, top_style):
    cloth = _FAR[TOP] if arm.far else TOP
    skin = _FAR[SKIN] if arm.far else SKIN
    _line(canvas, arm.root, arm.joint, skin if top_style == "sleeveless" else cloth, 4)
    _line(canvas, arm.joint, arm.end, cloth if top_style == "long_sleeves" else skin, 4)
    _disc(canvas, arm.end, 1.8, skin)


def _draw_hair(canvas, head, style, view, layer):
    """Hair behind the head (layer "back") or over it (layer "front")."""
    x, y = head
    profile = view == "profile"
    if layer == "back":
        if style == "long":
            if profile:  # falls down the back, behind neck and torso
                _poly(canvas, [(x + 1, y - 3), (x + 8, y - 3), (x + 9.5, y + 15), (x + 2.5, y + 13)], HAIR)
            else:
                _poly(canvas, [(x - 8.5, y - 2), (x + 8.5, y - 2), (x + 10, y + 15), (x - 10, y + 15)], HAIR)
        elif style == "afro":
            _disc(canvas, (x + (2.0 if profile else 0.0), y - 2.5), 11.0, HAIR)
        elif style == "bun" and profile:
            _disc(canvas, (x + 6.5, y - 6.5), 4.0, HAIR)
        return
    if style != "mohawk":
        # The cap: the top of the head, and in profile the back of it down to the neck.
        if profile:
            _ellipse(canvas, (x + 0.5, y - 1.0), (8.0, 8.5), HAIR, 195, 410)
        else:
            _ellipse(canvas, (x, y - 1.0), (8.0, 8.5), HAIR, 180, 360)
            _line(canvas, (x - 7.5, y - 1), (x - 7.0, y + 3), HAIR, 2)  # sideburns
            _line(canvas, (x + 7.5, y - 1), (x + 7.0, y + 3), HAIR, 2)
    if style == "spiky":
        # (left, peak height, right) of each spike, leaning back in profile.
        if profile:
            tops = ((0, -15, 3), (4, -16, 7), (8, -12, 9))
        else:
            tops = ((-6, -13, -3), (-1, -16, 2), (4, -14, 7))
        for left, peak_dy, right in tops:
            tip_x = (left + right) / 2 + (1.5 if profile else 0.0)
            _poly(canvas, [(x + left - 1, y - 6), (x + tip_x, y + peak_dy), (x + right + 1, y - 6)], HAIR)
    elif style == "bun" and not profile:
        _disc(canvas, (x, y - 10.5), 4.0, HAIR)
    elif style == "mohawk":
        if profile:
            _ellipse(canvas, (x + 0.5, y), (9.0, 10.5), HAIR, 200, 350, thickness=4)
        else:
            _poly(canvas, [(x - 2, y - 3), (x - 2.5, y - 14), (x + 2.5, y - 14), (x + 2, y - 3)], HAIR)


def _draw_frame(pose: _Pose, hair: str, top: str, bottom: str) -> np.ndarray:
    """One (64, 64) uint8 label map."""
    canvas = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    profile = pose.view == "profile"
    _ellipse(canvas, (32.0, _GROUND), (11.0, 2.5), SHADOW)
    head, neck_top = pose.head, pose.head + np.array([0.0, 6.0])
    shoulder_y, hip_y = pose.arms[0].root[1], pose.legs[0].root[1]
    far_arms = [a for a in pose.arms if a.far]
    near_arms = [a for a in pose.arms if not a.far]
    for arm in far_arms:
        _draw_arm(canvas, arm, top)
    for leg in pose.legs:
        if leg.far:
            _draw_leg(canvas, leg, bottom, profile)
    _draw_hair(canvas, head, hair, pose.view, "back")
    for leg in pose.legs:
        if not leg.far:
            _draw_leg(canvas, leg, bottom, profile)
    # Torso: narrower in profile, with a waistband of the bottom colour.
    cx = head[0] + (1.0 if profile else 0.0)
    half_s, half_h = (4.5, 4.0) if profile else (8.0, 7.0)
    _line(canvas, neck_top, (cx, shoulder_y), SKIN, 4)
    _poly(canvas, [(cx - half_s, shoulder_y - 2), (cx + half_s, shoulder_y - 2),
                   (cx + half_h, hip_y + 0.5), (cx - half_h, hip_y + 0.5)], TOP)
    _poly(canvas, [(cx - half_h - 0.3, hip_y - 3), (cx + half_h + 0.3, hip_y - 3),
                   (cx + half_h + 0.3, hip_y + 1.5), (cx - half_h - 0.3, hip_y + 1.5)], BOTTOM)
    if bottom == "skirt":
        flare = 3.0
        _poly(canvas, [(cx - half_h, hip_y - 1), (cx + half_h, hip_y - 1),
                       (cx + half_h + flare, hip_y + 9), (cx - half_h - flare, hip_y + 9)], BOTTOM)
    # Head: skin, eyes looking to the facing side, hair over it.
    _ellipse(canvas, head, (7.0, 7.5), SKIN)
    if profile:
        _disc(canvas, head + np.array([-7.0, 1.5]), 1.2, SKIN)  # nose
        _line(canvas, head + np.array([-4.0, 0.5]), head + np.array([-4.0, 1.5]), EYE, 1)
    else:
        for dx in (-3.0, 3.0):
            _line(canvas, head + np.array([dx, 0.5]), head + np.array([dx, 1.5]), EYE, 1)
    _draw_hair(canvas, head, hair, pose.view, "front")
    for arm in near_arms:
        if pose.sword is not None and arm is pose.arms[-1]:
            hilt, tip = pose.sword
            along = (tip - hilt) / np.linalg.norm(tip - hilt)
            _line(canvas, hilt + 2.0 * along, tip, BLADE, 2)
            guard = np.array([-along[1], along[0]]) * 2.5
            _line(canvas, hilt + 1.5 * along - guard, hilt + 1.5 * along + guard, HILT, 2)
        _draw_arm(canvas, arm, top)
    if pose.glow > 0:
        for arm in pose.arms:
            _disc(canvas, arm.end, pose.glow, GLOW)
    return canvas


def _outline(labels: np.ndarray) -> np.ndarray:
    """Marks background pixels 4-adjacent to the figure as OUTLINE (sprites have dark outlines)."""
    figure = (labels != BG) & (labels != SHADOW) & (labels != GLOW)
    near = np.zeros_like(figure)
    near[..., 1:, :] |= figure[..., :-1, :]
    near[..., :-1, :] |= figure[..., 1:, :]
    near[..., :, 1:] |= figure[..., :, :-1]
    near[..., :, :-1] |= figure[..., :, 1:]
    labels = labels.copy()
    labels[near & ~figure & (labels != GLOW)] = OUTLINE
    return labels


@functools.lru_cache(maxsize=None)
def label_maps(hair_style: str, top_style: str, bottom_style: str,
               num_frames: int = NUM_FRAMES) -> np.ndarray:
    """(3 actions, 3 directions, num_frames, 64, 64) uint8 part labels of one body shape.

    Only the styles shape the drawing (colours come from the palette), so characters share these;
    right is the mirror image of left.
    """
    maps = np.zeros((len(ACTIONS), len(DIRECTIONS), num_frames, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    for a, action in enumerate(ACTIONS):
        for t in range(num_frames):
            for direction, view in (("front", "front"), ("left", "profile")):
                pose = _pose(action, view, t, num_frames)
                maps[a, DIRECTIONS.index(direction), t] = _draw_frame(
                    pose, hair_style, top_style, bottom_style)
    maps[:, DIRECTIONS.index("right")] = maps[:, DIRECTIONS.index("left"), :, :, ::-1]
    return _outline(maps)


def styles(attributes) -> tuple[str, str, str]:
    """(hair, top, bottom) style names of (body, bottom, top, hair) attribute values."""
    _, bottom, top, hair = attributes
    return HAIR_STYLES[hair], TOP_STYLES[top], BOTTOM_STYLES[bottom]


def palette(attributes, rng: np.random.Generator) -> np.ndarray:
    """(NUM_LABELS, 3) uint8 colours of one character; small jitter so no two look pixel-identical."""
    body, bottom, top, hair = attributes
    colours = np.zeros((NUM_LABELS, 3), np.float64)
    colours[SKIN] = SKIN_COLOURS[body]
    colours[TOP] = TOP_COLOURS[top]
    colours[BOTTOM] = BOTTOM_COLOURS[bottom]
    colours[HAIR] = HAIR_COLOURS[hair]
    colours[[SKIN, TOP, BOTTOM, HAIR]] += rng.integers(-6, 7, size=(4, 3))
    colours[BG] = BACKGROUNDS[rng.integers(len(BACKGROUNDS))]
    colours[SHADOW] = colours[BG] * 0.82
    for far, near in ((SKIN_FAR, SKIN), (TOP_FAR, TOP), (BOTTOM_FAR, BOTTOM)):
        colours[far] = colours[near] * 0.72
    for label, colour in _FIXED_COLOURS.items():
        colours[label] = colour
    return np.clip(np.rint(colours), 0, 255).astype(np.uint8)


def render_character(attributes, character: int, seed: int, num_frames: int = NUM_FRAMES) -> np.ndarray:
    """(3 actions, 3 directions, num_frames, 64, 64, 3) uint8 videos of one character.

    Args:
      attributes: (body, bottom, top, hair) values in [0, 6).
      character: the character id; with `seed` it seeds the colour jitter and background (the same
        for every num_frames: a character looks the same in the 8- and 16-frame configs).
      num_frames: frames per video; the motions span them all.
    """
    rng = np.random.default_rng([seed, character])
    maps = label_maps(*styles(attributes), num_frames)
    return palette(attributes, rng)[maps]  # (3, 3, T, 64, 64, 3)


# ---------------------------------------------------------------------------------------------
# Characters and splits.


def make_characters(num_characters: int, seed: int) -> np.ndarray:
    """(num_characters, 4) distinct attribute combinations, in the order of their character ids.

    All 1296 combinations (shuffled) when num_characters is 1296; for fewer, every value of every
    attribute appears about equally often (a random balanced design), so small configs still show
    all 6 values.
    """
    rng = np.random.default_rng(seed)
    if num_characters > NUM_COMBINATIONS // 2:
        combos = np.array(list(itertools.product(range(NUM_ATTRIBUTE_VALUES), repeat=len(ATTRIBUTES))))
        return combos[rng.permutation(NUM_COMBINATIONS)[:num_characters]]
    balanced = np.arange(num_characters) % NUM_ATTRIBUTE_VALUES
    chars = np.stack([rng.permutation(balanced) for _ in ATTRIBUTES], axis=1)
    # Remove duplicate combinations by swapping one attribute with another character (keeps balance).
    while True:
        _, first = np.unique(chars, axis=0, return_index=True)
        duplicates = np.setdiff1d(np.arange(num_characters), first)
        if not len(duplicates):
            return chars
        for row in duplicates:
            other, attribute = rng.integers(num_characters), rng.integers(len(ATTRIBUTES))
            chars[[row, other], attribute] = chars[[other, row], attribute]


# ---------------------------------------------------------------------------------------------
# The TFDS builder.


@dataclasses.dataclass(eq=False, kw_only=True)
class SyntheticSpritesConfig(tfds.core.BuilderConfig):
    """A number of characters, their video length, and the seed that picks them and their split.

    Args:
      num_characters: distinct attribute combinations drawn, at most 1296.
      num_test_characters: how many of them form the test split (train gets the rest).
      seed: fixes the characters, their split and their colour jitter.
      num_frames: frames per video (8 like Sprites; 16 for MoCoGAN-style video discriminators).
        The motions span every frame; the feature shape follows: (num_frames, 64, 64, 3).
    """

    num_characters: int = NUM_COMBINATIONS
    num_test_characters: int = 296
    seed: int = 0
    num_frames: int = NUM_FRAMES

    def __post_init__(self):
        if not 2 <= self.num_characters <= NUM_COMBINATIONS:
            raise UserError(
                f"synthetic_sprites config {self.name}: num_characters={self.num_characters} must be "
                f"in [2, {NUM_COMBINATIONS}]"
            )
        if not 1 <= self.num_test_characters < self.num_characters:
            raise UserError(
                f"synthetic_sprites config {self.name}: num_test_characters={self.num_test_characters} "
                f"must be in [1, num_characters - 1 = {self.num_characters - 1}]"
            )
        if self.seed < 0:
            raise UserError(f"synthetic_sprites config {self.name}: seed={self.seed} must be >= 0")
        if not 2 <= self.num_frames <= MAX_FRAMES:
            raise UserError(f"synthetic_sprites config {self.name}: num_frames={self.num_frames} must be "
                            f"in [2, {MAX_FRAMES}]")

    @property
    def num_train_characters(self) -> int:
        return self.num_characters - self.num_test_characters


def generate_examples(config: SyntheticSpritesConfig, split: str):
    """Yields (key, example) for one split; character ids [0, num_train) train, the rest test."""
    characters = make_characters(config.num_characters, config.seed)
    ids = range(config.num_train_characters) if split == "train" else range(
        config.num_train_characters, config.num_characters)
    for character in ids:
        attributes = characters[character].tolist()
        videos = render_character(attributes, character, config.seed, config.num_frames)
        for (a, action), (d, direction) in itertools.product(enumerate(ACTIONS), enumerate(DIRECTIONS)):
            example = {"video": videos[a, d], "action": action, "direction": direction,
                       "character": character}
            example.update(zip(ATTRIBUTES, attributes))
            yield f"{character:04d}_{action}_{direction}", example


def _features(num_frames: int) -> tfds.features.FeaturesDict:
    """The Sprites feature spec (`sprites_dataset_builder.features`) with `num_frames`-frame videos."""
    spec = features()
    if num_frames == NUM_FRAMES:
        return spec  # the 8-frame configs keep Sprites' spec as it is
    video = tfds.features.Tensor(shape=(num_frames, *spec["video"].shape[1:]), dtype=spec["video"].np_dtype,
                                 encoding=tfds.features.Encoding.ZLIB)
    return tfds.features.FeaturesDict({key: video if key == "video" else feature
                                       for key, feature in spec.items()})


class Builder(tfds.core.GeneratorBasedBuilder):
    """Procedurally drawn Sprites-like videos; nothing to download."""

    VERSION = tfds.core.Version("1.0.0")
    # TFDS would look for README.md / CITATIONS.bib under the `rjkeras` package folder, where
    # an editable install (datasets/ mapped to rjkeras.datasets) has no datasets/: point at ours.
    pkg_dir_path = epath.Path(__file__).parent
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [
        SyntheticSpritesConfig(
            name="default", num_characters=NUM_COMBINATIONS, num_test_characters=296,
            description="All 1296 attribute combinations: 1000 train / 296 test characters "
                        "(9000 / 2664 videos), like Sprites."),
        SyntheticSpritesConfig(
            name="small", num_characters=108, num_test_characters=28,
            description="108 characters (80 train / 28 test) for quick runs."),
        SyntheticSpritesConfig(
            name="tiny", num_characters=12, num_test_characters=4,
            description="12 characters (8 train / 4 test) for tests."),
        # 16-frame videos, for MoCoGAN's video discriminator (16-frame clips); same characters.
        SyntheticSpritesConfig(
            name="frames16", num_characters=NUM_COMBINATIONS, num_test_characters=296, num_frames=16,
            description="The default characters (1000 train / 296 test) at 16 frames a video."),
        SyntheticSpritesConfig(
            name="small16", num_characters=108, num_test_characters=28, num_frames=16,
            description="The small characters (80 train / 28 test) at 16 frames a video, for "
                        "quick runs of MoCoGAN's 16-frame clips."),
        SyntheticSpritesConfig(
            name="tiny16", num_characters=12, num_test_characters=4, num_frames=16,
            description="The tiny characters (8 train / 4 test) at 16 frames a video, for tests."),
    ]
    DEFAULT_CONFIG_NAME = "default"

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(features=_features(self.builder_config.num_frames),
                                              supervised_keys=None)

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        del dl_manager  # everything is drawn
        return {split: self._generate_examples(split) for split in ("train", "test")}

    def _generate_examples(self, split: str):
        return generate_examples(self.builder_config, split)
