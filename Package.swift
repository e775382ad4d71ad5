// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "mxsurvey",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mxsurvey", targets: ["mxsurvey"]),
        .executable(name: "mxfarm", targets: ["mxfarm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // C access: system libraries with small shims for the macros Swift cannot call.
        .systemLibrary(
            name: "CAres", path: "Sources/CAres", pkgConfig: "libcares",
            providers: [.apt(["libc-ares-dev"])]),
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),

        // Pipeline stages.
        .target(name: "SurveyCore"),
        .target(
            name: "SurveyDNS",
            dependencies: [
                "CAres", "SurveyCore", .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "SurveyStore",
            dependencies: [
                "SurveyCore", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]),
        .target(name: "SurveyTLS", dependencies: ["COpenSSL", "SurveyCore"]),
        .target(
            name: "SurveyProbe",
            dependencies: [
                "SurveyCore", "SurveyTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "SurveyScan",
            dependencies: [
                "SurveyCore", "SurveyDNS", "SurveyProbe", "SurveyStore", "SurveyTLS",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "SurveyReport",
            dependencies: ["SurveyCore", "SurveyStore", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(
            name: "FarmKit",
            dependencies: [
                "SurveyCore", "SurveyTLS", "COpenSSL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        // Starts and stops the real peers (unbound, Postfix) and the farm for tests.
        .target(name: "TestSupport", dependencies: ["SurveyCore", "SurveyStore", "SurveyTLS"]),

        // Thin command-line front ends.
        .executableTarget(
            name: "mxsurvey",
            dependencies: [
                "SurveyCore", "SurveyDNS", "SurveyStore", "SurveyProbe", "SurveyScan", "SurveyReport",
                "SurveyTLS",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "mxfarm",
            dependencies: [
                "FarmKit", "SurveyCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(name: "SurveyCoreTests", dependencies: ["SurveyCore"]),
        .testTarget(name: "SurveyDNSTests", dependencies: ["SurveyDNS", "TestSupport"]),
        .testTarget(name: "SurveyStoreTests", dependencies: ["SurveyStore"]),
        .testTarget(name: "SurveyTLSTests", dependencies: ["SurveyTLS", "TestSupport"]),
        .testTarget(name: "SurveyProbeTests", dependencies: ["SurveyProbe", "TestSupport"]),
        .testTarget(
            name: "SurveyScanTests",
            dependencies: [
                "SurveyScan", "TestSupport", "FarmKit", "SurveyReport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .testTarget(name: "SurveyReportTests", dependencies: ["SurveyReport", "TestSupport"]),
        .testTarget(name: "FarmKitTests", dependencies: ["FarmKit", "TestSupport"]),
        // Runs the built executables as a user would.
        .testTarget(
            name: "mxsurveyTests",
            dependencies: ["TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
    ],
    swiftLanguageModes: [.v6]
)
