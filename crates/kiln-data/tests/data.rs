//! kiln-data against hand-made files and published facts about MNIST.

use std::io::Write;
use std::path::{Path, PathBuf};

use kiln_data::idx::parse_idx;
use kiln_data::image_batch::translate;
use kiln_data::{epoch_permutation, read_idx, stratified_split, DataError, ImageBatcher, MnistDataset, MnistSplit};

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/mnist")
}

/// Header bytes: two zeros, type, rank, big-endian dimensions.
fn idx_bytes(type_byte: u8, dims: &[u32], payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, type_byte, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(payload);
    bytes
}

fn parse(bytes: &[u8]) -> Result<kiln_data::IdxArray, DataError> {
    parse_idx(bytes, Path::new("test.idx"))
}

fn reason(result: Result<kiln_data::IdxArray, DataError>) -> String {
    match result {
        Err(DataError::MalformedIdx { reason, .. }) => reason,
        other => panic!("expected a malformed-IDX error, got {other:?}"),
    }
}

mod idx {
    use super::*;

    #[test]
    fn reads_a_hand_made_matrix() {
        let array = parse(&idx_bytes(0x08, &[2, 3], &[1, 2, 3, 4, 5, 6])).unwrap();
        assert_eq!(array.dims, vec![2, 3]);
        assert_eq!(array.data, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn reads_gzip_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels.gz");
        let mut gz =
            flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::default());
        gz.write_all(&idx_bytes(0x08, &[4], &[7, 0, 9, 1])).unwrap();
        gz.finish().unwrap();
        assert_eq!(read_idx(&path).unwrap().data, vec![7, 0, 9, 1]);
    }

    #[test]
    fn rejects_a_bad_magic_number() {
        assert!(reason(parse(&[1, 0, 8, 1, 0, 0, 0, 1, 5])).contains("bad magic"));
    }

    #[test]
    fn rejects_element_types_other_than_unsigned_byte() {
        assert!(reason(parse(&idx_bytes(0x0D, &[1], &[0, 0, 0, 0]))).contains("0x0d"));
    }

    #[test]
    fn rejects_a_truncated_header() {
        assert!(reason(parse(&[0, 0, 8, 3, 0, 0, 0, 2, 0, 0])).contains("truncated before dimension 1"));
    }

    #[test]
    fn rejects_truncated_data() {
        let r = reason(parse(&idx_bytes(0x08, &[2, 2], &[1, 2, 3])));
        assert!(r.contains("truncated") && r.contains("need 4") && r.contains("has 3"), "{r}");
    }

    #[test]
    fn rejects_dimensions_larger_than_the_file_without_allocating_them() {
        // 4 × 2^32-1 cubed would be ~2^98 bytes: must fail on the header arithmetic, at once.
        let r = reason(parse(&idx_bytes(0x08, &[u32::MAX, u32::MAX, u32::MAX], &[0; 16])));
        assert!(r.contains("describe more than"), "{r}");
        let r = reason(parse(&idx_bytes(0x08, &[60_000, 28, 28], &[0; 100])));
        assert!(r.contains("truncated"), "{r}");
    }

    #[test]
    fn rejects_trailing_bytes() {
        assert!(reason(parse(&idx_bytes(0x08, &[2], &[1, 2, 3]))).contains("longer than"));
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let err = read_idx(Path::new("/nonexistent/kiln.idx")).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }));
        assert!(err.to_string().contains("/nonexistent/kiln.idx"));
    }
}

mod mnist {
    use super::*;

    #[test]
    fn shipped_split_is_8000_2000_and_stratified() {
        let train = MnistDataset::load(&shipped(), MnistSplit::Train, None).unwrap();
        let test = MnistDataset::load(&shipped(), MnistSplit::Test, None).unwrap();
        assert_eq!((train.len(), test.len()), (8000, 2000));
        assert_eq!((train.height, train.width), (28, 28));
        for class in 0..10u8 {
            let a = train.labels.iter().filter(|&&l| l == class).count() as f64;
            let b = test.labels.iter().filter(|&&l| l == class).count() as f64;
            // Every class gives a fifth of its digits to test, up to rounding of one digit.
            assert!((b - 0.2 * (a + b)).abs() <= 1.0, "class {class}: {a} train, {b} test");
        }
    }

    #[test]
    fn shipped_digits_have_mnists_published_pixel_statistics() {
        // torchvision normalises MNIST with mean 0.1307 and std 0.3081 (of pixel/255).
        let train = MnistDataset::load(&shipped(), MnistSplit::Train, None).unwrap();
        let n = train.images.len() as f64;
        let mean = train.images.iter().map(|&p| p as f64 / 255.0).sum::<f64>() / n;
        let var = train.images.iter().map(|&p| (p as f64 / 255.0 - mean).powi(2)).sum::<f64>() / n;
        assert!((mean - 0.1307).abs() < 0.01, "mean {mean}");
        assert!((var.sqrt() - 0.3081).abs() < 0.01, "std {}", var.sqrt());
    }

    #[test]
    fn limit_keeps_the_first_examples() {
        let all = MnistDataset::load(&shipped(), MnistSplit::Test, None).unwrap();
        let few = MnistDataset::load(&shipped(), MnistSplit::Test, Some(5)).unwrap();
        assert_eq!(few.labels, all.labels[..5]);
        assert_eq!(few.images, all.images[..5 * 784]);
    }

    #[test]
    fn missing_folder_says_what_it_looked_for() {
        let err = MnistDataset::load(Path::new("/nonexistent"), MnistSplit::Train, None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("train-images-idx3-ubyte.gz") && text.contains("just data"), "{text}");
    }

    #[test]
    fn labels_that_disagree_with_images_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t10k-images-idx3-ubyte"), idx_bytes(0x08, &[2, 2, 2], &[0; 8])).unwrap();
        std::fs::write(dir.path().join("t10k-labels-idx1-ubyte"), idx_bytes(0x08, &[3], &[0, 1, 2])).unwrap();
        let err = MnistDataset::load(dir.path(), MnistSplit::Test, None).unwrap_err();
        assert!(matches!(err, DataError::Inconsistent { .. }), "{err}");
    }
}

mod batching {
    use super::*;
    use burn::backend::NdArray;

    #[test]
    fn normalises_with_the_given_statistics() {
        let dataset = MnistDataset { images: vec![0, 255, 51, 102], labels: vec![3], height: 2, width: 2 };
        let batcher = ImageBatcher { mean: 0.5, std: 0.25 };
        let host = batcher.host_batch(&dataset, &[0]);
        // (p/255 - 0.5) / 0.25 for p = 0, 255, 51 (0.2), 102 (0.4)
        let expected = [-2.0, 2.0, -1.2, -0.4];
        for (got, want) in host.pixels.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
        let batch = host.to_device::<NdArray>(&Default::default());
        assert_eq!(batch.images.dims(), [1, 1, 2, 2]);
        assert_eq!(batch.targets.into_data().to_vec::<i64>().unwrap(), vec![3]);
    }

    #[test]
    fn translate_moves_pixels_and_fills_with_zero() {
        let image = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(translate(&image, 3, 3, 1, 0), vec![0, 0, 0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(translate(&image, 3, 3, 0, -1), vec![2, 3, 0, 5, 6, 0, 8, 9, 0]);
        assert_eq!(translate(&image, 3, 3, 0, 0), image.to_vec());
    }

    #[test]
    fn shifted_batches_are_reproducible_and_bounded() {
        let test = MnistDataset::load(&shipped(), MnistSplit::Test, Some(16)).unwrap();
        let batcher = ImageBatcher::mnist();
        let idx: Vec<usize> = (0..16).collect();
        let a = batcher.host_batch_shifted(&test, &idx, 2, 7);
        assert_eq!(a, batcher.host_batch_shifted(&test, &idx, 2, 7));
        assert_ne!(a, batcher.host_batch_shifted(&test, &idx, 2, 8));
        // A shift of at most 2 keeps MNIST's centred digits whole: ink is conserved.
        let ink = |b: &kiln_data::HostImageBatch| b.pixels.iter().map(|&p| (p * 0.3081 + 0.1307) as f64).sum::<f64>();
        let plain = batcher.host_batch(&test, &idx);
        assert!((ink(&a) - ink(&plain)).abs() / ink(&plain) < 0.01);
    }
}

mod split {
    use super::*;

    #[test]
    fn stratified_split_holds_out_the_fraction_of_every_class() {
        let labels: Vec<u8> = (0..1000).map(|i| (i % 10) as u8).collect();
        let (kept, held) = stratified_split(&labels, 0.1, 3);
        assert_eq!((kept.len(), held.len()), (900, 100));
        for class in 0..10u8 {
            assert_eq!(held.iter().filter(|&&i| labels[i] == class).count(), 10);
        }
        let mut all: Vec<usize> = kept.iter().chain(&held).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert_eq!((kept, held), stratified_split(&labels, 0.1, 3));
    }

    #[test]
    fn epoch_permutations_depend_only_on_seed_and_epoch() {
        let idx: Vec<usize> = (0..100).collect();
        let e1 = epoch_permutation(&idx, 42, 1);
        let mut sorted = e1.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, idx);
        assert_eq!(e1, epoch_permutation(&idx, 42, 1));
        assert_ne!(e1, epoch_permutation(&idx, 42, 2));
        assert_ne!(e1, epoch_permutation(&idx, 43, 1));
    }
}

mod resize {
    use kiln_data::MnistDataset;

    #[test]
    fn bilinear_upscaling_matches_half_pixel_centres_worked_by_hand() {
        // A 1×2 image [0, 200] to 1×4: output pixel centres map to source x = −0.25, 0.25, 0.75,
        // 1.25 (PyTorch's align_corners=False); clamped at the borders → 0, 50, 150, 200.
        let d = MnistDataset { images: vec![0, 200], labels: vec![1], height: 1, width: 2 };
        assert_eq!(d.resized(1, 4).images, vec![0, 50, 150, 200]);
    }

    #[test]
    fn every_image_keeps_its_label_and_gets_the_new_size() {
        let images: Vec<u8> = (0..2 * 28 * 28).map(|i| (i % 251) as u8).collect();
        let d = MnistDataset { images, labels: vec![4, 9], height: 28, width: 28 };
        let small = d.resized(20, 20);
        assert_eq!((small.len(), small.height, small.width, small.images.len()), (2, 20, 20, 800));
        assert_eq!(small.labels, vec![4, 9]);
    }
}

mod segmentation {
    use super::*;
    use kiln_data::segmentation::IGNORE_LABEL;
    use kiln_data::{HostSegmentationBatch, SegmentationDataset};

    fn seg_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/mnist-seg").canonicalize().unwrap()
    }

    #[test]
    fn the_shipped_canvases_load_with_their_label_maps() {
        let test = SegmentationDataset::load(&seg_root(), "test", None).unwrap();
        assert_eq!((test.len(), test.height, test.width), (500, 64, 64));
        let train = SegmentationDataset::load(&seg_root(), "train", Some(40)).unwrap();
        assert_eq!(train.len(), 40);
        assert_eq!(train.names[0], "00000");
        // The script's rule: ink ≥ 128 is a digit class 1–10, 48–127 the ignored border, else background.
        for i in 0..train.len() {
            for (&p, &l) in train.image(i).iter().zip(train.label(i)) {
                match p {
                    0..=47 => assert_eq!(l, 0),
                    48..=127 => assert_eq!(l, IGNORE_LABEL),
                    _ => assert!((1..=10).contains(&l), "ink {p} labelled {l}"),
                }
            }
        }
        assert_eq!(train.max_class(), Some(10));
        let batch = HostSegmentationBatch::new(&train, &[0, 3], 0.5, 0.5);
        assert_eq!(batch.shape, [2, 1, 64, 64]);
        assert_eq!(batch.labels[..4096], train.label(0).iter().map(|&l| l as i64).collect::<Vec<_>>()[..]);
        assert_eq!(batch.pixels[0], (train.image(0)[0] as f32 / 255.0 - 0.5) / 0.5);
    }

    fn write_png(path: &Path, width: u32, height: u32, value: u8) {
        image::GrayImage::from_pixel(width, height, image::Luma([value])).save(path).unwrap();
    }

    #[test]
    fn broken_folders_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = SegmentationDataset::load(dir.path(), "train", None).unwrap_err().to_string();
        assert!(err.contains("no segmentation train images found"), "{err}");
        let images = dir.path().join("train/images");
        let labels = dir.path().join("train/labels");
        std::fs::create_dir_all(&images).unwrap();
        std::fs::create_dir_all(&labels).unwrap();
        write_png(&images.join("a.png"), 8, 8, 10);
        let err = SegmentationDataset::load(dir.path(), "train", None).unwrap_err().to_string();
        assert!(err.contains("has no label map"), "{err}");
        write_png(&labels.join("a.png"), 8, 6, 0);
        let err = SegmentationDataset::load(dir.path(), "train", None).unwrap_err().to_string();
        assert!(err.contains("is 8×6 but its image is 8×8"), "{err}");
        std::fs::write(labels.join("a.png"), b"not a png").unwrap();
        let err = SegmentationDataset::load(dir.path(), "train", None).unwrap_err().to_string();
        assert!(err.contains("is not a readable PNG"), "{err}");
    }
}

mod points {
    use super::*;
    use kiln_data::PointSet;

    #[test]
    fn shipped_toy_densities_are_20000_train_and_5000_test_points_in_the_plane() {
        for name in ["two_moons", "eight_gaussians", "checkerboard", "swiss_roll"] {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/toy2d").join(name);
            let set = PointSet::load(&root, None).unwrap();
            assert_eq!((set.train.dim, set.train.len()), (2, 20_000), "{name}");
            assert_eq!(set.test.as_ref().map(|t| t.len()), Some(5_000), "{name}");
        }
    }

    #[test]
    fn checkerboard_points_lie_on_its_dark_squares() {
        // x1 ∈ [−2, 2), x2 = u − 2b + (⌊x1⌋ mod 2), all doubled: ⌊x/2⌋ + ⌊y/2⌋ is even.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/toy2d/checkerboard");
        let set = PointSet::load(&root, Some(2000)).unwrap();
        for i in 0..set.train.len() {
            let p = set.train.row(i);
            let parity = ((p[0] / 2.0).floor() + (p[1] / 2.0).floor()).rem_euclid(2.0);
            assert!(parity < 0.5 || (p[0] / 2.0).fract().abs() < 1e-5 || (p[1] / 2.0).fract().abs() < 1e-5, "{p:?}");
        }
    }

    #[test]
    fn a_row_that_is_not_numbers_is_rejected_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("train.csv"), "x,y\n1,2\n3,oops\n").unwrap();
        let err = PointSet::load(dir.path(), None).unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("oops"), "{err}");
        std::fs::write(dir.path().join("train.csv"), "1,2\n3\n").unwrap();
        let err = PointSet::load(dir.path(), None).unwrap_err().to_string();
        assert!(err.contains("line 2 has 1 columns"), "{err}");
        std::fs::write(dir.path().join("train.csv"), "1,2\n").unwrap();
        std::fs::write(dir.path().join("test.csv"), "1,2,3\n").unwrap();
        let err = PointSet::load(dir.path(), None).unwrap_err().to_string();
        assert!(err.contains("3 columns"), "{err}");
    }
}

mod coco {
    use super::*;
    use kiln_data::{CocoDetectionDataset, CocoInstances};

    fn grey_png(path: &Path, w: u32, h: u32) {
        image::GrayImage::from_pixel(w, h, image::Luma([7])).save(path).unwrap();
    }

    /// Two 8×6 images, categories 5, 1, 2 (out of order), one crowd box.
    fn hand_made(dir: &Path) -> PathBuf {
        grey_png(&dir.join("a.png"), 8, 6);
        grey_png(&dir.join("b.png"), 8, 6);
        let json = r#"{"images":[{"id":9,"file_name":"b.png","width":8,"height":6},
            {"id":3,"file_name":"a.png","width":8,"height":6,"license":1}],
          "annotations":[{"id":1,"image_id":9,"category_id":5,"bbox":[1,2,3,4],"area":12,"iscrowd":0},
            {"id":2,"image_id":3,"category_id":1,"bbox":[0.5,0,2,2],"area":4,"iscrowd":1},
            {"id":3,"image_id":9,"category_id":2,"bbox":[4,1,4,5],"area":20,"iscrowd":0}],
          "categories":[{"id":5,"name":"five"},{"id":1,"name":"one"},{"id":2,"name":"two"}],
          "info":{"description":"ignored"}}"#;
        let path = dir.join("instances.json");
        std::fs::write(&path, json).unwrap();
        path
    }

    #[test]
    fn reads_images_in_id_order_and_classes_in_category_id_order() {
        let dir = tempfile::tempdir().unwrap();
        let set = CocoDetectionDataset::load(dir.path(), &hand_made(dir.path()), None).unwrap();
        assert_eq!(set.image_ids, vec![3, 9]);
        assert_eq!(set.file_names, vec!["a.png", "b.png"]);
        assert_eq!((set.height, set.width, set.classes()), (6, 8, 3));
        assert_eq!(set.categories[2], (5, "five".to_string()));
        assert_eq!(set.objects[0].len(), 1);
        assert_eq!(
            (set.objects[0][0].class, set.objects[0][0].iscrowd, set.objects[0][0].bbox),
            (0, true, [0.5, 0.0, 2.0, 2.0])
        );
        let classes: Vec<usize> = set.objects[1].iter().map(|o| o.class).collect();
        assert_eq!(classes, vec![2, 1]);
        assert!(set.image(1).iter().all(|&p| p == 7));
    }

    #[test]
    fn instances_round_trip_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let set = CocoDetectionDataset::load(dir.path(), &hand_made(dir.path()), None).unwrap();
        let written = dir.path().join("again.json");
        set.to_instances().write(&written).unwrap();
        let again = CocoDetectionDataset::load(dir.path(), &written, None).unwrap();
        assert_eq!((again.image_ids, again.objects, again.categories), (set.image_ids, set.objects, set.categories));
        let parsed = CocoInstances::read(&written).unwrap();
        assert_eq!(parsed.annotations.iter().map(|a| a.area).collect::<Vec<_>>(), vec![4.0, 12.0, 20.0]);
    }

    #[test]
    fn inconsistent_files_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let good = std::fs::read_to_string(hand_made(dir.path())).unwrap();
        let path = dir.path().join("bad.json");
        for (edit, expected) in [
            (good.replace("\"category_id\":5", "\"category_id\":4"), "category_id 4, not in categories"),
            (
                good.replace("\"image_id\":9,\"category_id\":2", "\"image_id\":8,\"category_id\":2"),
                "image_id 8, not in images",
            ),
            (good.replace("[4,1,4,5]", "[4,1,-4,5]"), "width and height must be ≥ 0"),
            (good.replace("\"iscrowd\":1", "\"iscrowd\":2"), "iscrowd must be 0 or 1"),
            (
                good.replace("\"width\":8,\"height\":6,\"license\"", "\"width\":9,\"height\":6,\"license\""),
                "is 8×6 but",
            ),
            (good.replace("\"annotations\"", "\"annotation\""), "missing field `annotations`"),
        ] {
            std::fs::write(&path, edit).unwrap();
            let err = CocoDetectionDataset::load(dir.path(), &path, None).unwrap_err().to_string();
            assert!(err.contains(expected), "expected '{expected}' in: {err}");
        }
    }

    #[test]
    fn shipped_boxes_are_the_ink_extent_of_their_digits() {
        // Every box lies inside its canvas and each of its four edges holds ink ≥ 48 (the box is
        // the digit's ink extent, and compositing by max keeps that ink), for both splits.
        for split in ["train", "test"] {
            let root = shipped().join("../mnist-det");
            let set = CocoDetectionDataset::load(
                &root.join(split),
                &root.join(format!("annotations/instances_{split}.json")),
                Some(200),
            )
            .unwrap();
            assert_eq!((set.height, set.width, set.classes()), (128, 128, 10));
            let mut boxes = 0;
            for (i, objects) in set.objects.iter().enumerate() {
                assert!((1..=8).contains(&objects.len()), "{split} canvas {i}: {} digits", objects.len());
                let pixels = set.image(i);
                let ink = |x: usize, y: usize| pixels[y * 128 + x] >= 48;
                for o in objects {
                    let [x, y, w, h] = o.bbox.map(|v| v as usize);
                    assert!(x + w <= 128 && y + h <= 128 && (1..=64).contains(&h), "{split} {i}: {:?}", o.bbox);
                    assert!((x..x + w).any(|c| ink(c, y)) && (x..x + w).any(|c| ink(c, y + h - 1)));
                    assert!((y..y + h).any(|r| ink(x, r)) && (y..y + h).any(|r| ink(x + w - 1, r)));
                    boxes += 1;
                }
            }
            assert!(boxes > 200 * 3, "{split}: {boxes} boxes on 200 canvases");
        }
    }
}
